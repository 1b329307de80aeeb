import { existsSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join } from "node:path";
import { HiveError } from "../../shared/errors.ts";
import type { Workspace } from "../../shared/records.ts";
import { ConfigStore } from "../config/store.ts";
import { newId, slugify } from "../db/ids.ts";
import type { WorkspaceRepo } from "../db/workspaces.ts";
import type { EventBus } from "../events/bus.ts";
import { git, repoRoot } from "../worktrees/git.ts";

/** The registered repositories and their live configs. */
export class Workspaces {
  private readonly configs = new Map<string, ConfigStore>();

  constructor(
    private readonly repo: WorkspaceRepo,
    private readonly bus: EventBus,
  ) {}

  list(): Workspace[] {
    return this.repo.list();
  }

  get(id: string): Workspace {
    const w = this.repo.get(id);
    if (!w) throw new HiveError("WORKSPACE_NOT_FOUND", `No workspace with id '${id}'.`);
    return w;
  }

  /** The workspace, when its repository is still where it was registered (cells are made from it). */
  present(id: string): Workspace {
    const w = this.get(id);
    if (!existsSync(w.path))
      throw new HiveError(
        "WORKSPACE_INVALID",
        `The repository of ${w.name} is no longer at ${w.path} (moved or deleted): put it back there, or remove the workspace from Hive.`,
      );
    return w;
  }

  config(id: string): ConfigStore {
    const w = this.get(id);
    let store = this.configs.get(id);
    if (!store) {
      store = new ConfigStore(w.path, () => this.bus.emit("config.changed", { workspaceId: id }));
      store.watch();
      this.configs.set(id, store);
    }
    return store;
  }

  /** Registers a repository (idempotent: the same path returns the existing workspace). */
  async register(path: string): Promise<Workspace> {
    // `~` is the home of whoever runs Hive, as in their shell (Hive runs on their own box).
    const full = path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
    // A relative path would be taken from wherever Hive was started, which the person may not know.
    if (!isAbsolute(full))
      throw new HiveError(
        "WORKSPACE_INVALID",
        `${path} is not an absolute path; give the repository's full path.`,
      );
    let dir: string;
    try {
      dir = realpathSync(full);
    } catch {
      throw new HiveError("WORKSPACE_INVALID", `${path} does not exist.`);
    }
    if (!statSync(dir).isDirectory())
      throw new HiveError("WORKSPACE_INVALID", `${path} is a file; give the repository's directory.`);
    const root = realpathSync(await repoRoot(dir));
    const existing = this.repo.byPath(root);
    if (existing) return existing;
    try {
      await git(["rev-parse", "--verify", "HEAD^{commit}"], { cwd: root });
    } catch {
      throw new HiveError(
        "WORKSPACE_INVALID",
        `${root} has no commits yet; cells fork from a commit, so commit something first.`,
      );
    }
    const base = slugify(basename(root), 30);
    let slug = base;
    for (let n = 2; this.repo.slugTaken(slug); n++) slug = `${base}-${n}`;
    const workspace: Workspace = {
      id: newId(8),
      path: root,
      slug,
      name: basename(root),
      createdAt: new Date().toISOString(),
    };
    this.repo.insert(workspace);
    this.bus.emit("workspace.added", { workspace });
    return workspace;
  }

  /**
   * Removes a workspace from Hive: the repository stays as it is, and so do the branches of its
   * cells. Refused while it has cells (archived ones keep worktrees), with their names.
   */
  async remove(id: string): Promise<void> {
    const workspace = this.get(id);
    const result = this.repo.removeIfEmpty(id);
    if ("cells" in result) {
      const { cells } = result;
      const named = cells
        .slice(0, 5)
        .map((n) => `'${n}'`)
        .join(", ");
      const more = cells.length > 5 ? ` and ${cells.length - 5} more` : "";
      throw new HiveError(
        "WORKSPACE_BUSY",
        `${workspace.name} still has ${cells.length} cell(s) (${named}${more}), archived ones included; delete them first.`,
        { cells },
      );
    }
    await this.configs.get(id)?.close();
    this.configs.delete(id);
    this.bus.emit("workspace.removed", { workspace });
  }

  async close(): Promise<void> {
    await Promise.all([...this.configs.values()].map((c) => c.close()));
    this.configs.clear();
  }
}
