import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { KeptBranch } from "../../shared/diffs.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell, Workspace } from "../../shared/records.ts";
import type { CellRepo } from "../db/cells.ts";
import type { Db } from "../db/connection.ts";
import type { EventBus } from "../events/bus.ts";
import { GitError, git } from "../worktrees/git.ts";
import { currentBranch, dirtyFiles, unmergedCommits } from "../worktrees/worktrees.ts";
import { commitAll } from "./merge.ts";

/** Past these, uncommitted changes are not committed on delete: the worktree is left instead. */
const KEEP_MAX_FILES = 20_000;
const KEEP_MAX_BYTES = 200 * 1024 * 1024;

type Row = {
  id: number;
  workspace_id: string;
  branch: string;
  cell_id: string;
  cell_name: string;
  head: string;
  ahead: number;
  merge_target: string;
  kept_at: string;
};

/** Quotes an argument for a POSIX shell when it needs it, so a printed command can be pasted as is. */
const shellArg = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

const toKept = (r: Row, repo: string): KeptBranch => {
  const dir = join(dirname(repo), `${basename(repo)}-${r.branch.split("/").pop()}`);
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    branch: r.branch,
    cellId: r.cell_id,
    cellName: r.cell_name,
    status: "abandoned",
    head: r.head,
    ahead: r.ahead,
    mergeTarget: r.merge_target,
    keptAt: r.kept_at,
    restoreCommand: `git -C ${shellArg(repo)} worktree add ${shellArg(dir)} ${shellArg(r.branch)}`,
    deleteCommand: `git -C ${shellArg(repo)} branch -D ${shellArg(r.branch)}`,
  };
};

/** Records a cell's new branch status and tells every listener (sidebar badges, the review pane). */
export function setBranchStatus(
  cells: CellRepo,
  bus: EventBus,
  cellId: string,
  branchStatus: Cell["branchStatus"],
): void {
  const cell = cells.update(cellId, { branchStatus });
  if (cell) bus.emit("cell.updated", { cell });
}

export interface BranchKeeperDeps {
  db: Db;
  cells: CellRepo;
  bus: EventBus;
  workspace(id: string): Workspace;
  /** Stops a cell's work (services, terminals, agent, watcher) keeping its worktree: the cells room's archive. */
  archive(cellId: string): Cell;
}

/**
 * Abandoned work: a cell given up on keeps its branch. "Abandon" stops the cell's work and marks its branch
 * `abandoned` (the worktree stays, so nothing uncommitted is lost and Restore brings it back); deleting a
 * cell whose branch holds unmerged commits keeps the branch (worktrees/ decides that) and lists it here
 * per workspace, with the commands to bring it back or drop it.
 */
export class BranchKeeper {
  constructor(private readonly deps: BranchKeeperDeps) {}

  /** Explicit "Abandon": the branch is kept as it is and the cell stops (archived). */
  abandon(cellId: string): Cell {
    const cell = this.deps.cells.get(cellId);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`, { cellId });
    if (cell.branchStatus === "merged") {
      throw new HiveError(
        "CELL_STATE",
        `'${cell.name}' is merged already; there is no work left to abandon.`,
      );
    }
    if (cell.status === "ready" || cell.status === "error") this.deps.archive(cellId);
    else if (cell.status !== "archived") {
      throw new HiveError(
        "CELL_STATE",
        `Cell '${cell.name}' is ${cell.status}; abandon it once it is ready, failed or archived.`,
        { status: cell.status },
      );
    }
    setBranchStatus(this.deps.cells, this.deps.bus, cellId, "abandoned");
    return this.deps.cells.get(cellId) ?? cell;
  }

  /**
   * Part of deleting a cell, once nothing runs in its worktree any more: what was never committed (the
   * agent's edits most often) is committed onto the cell's branch, so removing the worktree loses nothing.
   * The branch then holds unmerged work and is kept (keepIfUnmerged). Should this fail, the worktree is not
   * removed (cells/provision.ts).
   */
  async keepUncommitted(cell: Cell): Promise<string> {
    if (!cell.worktreePath || !existsSync(cell.worktreePath)) return "no worktree";
    const changed = await dirtyFiles(cell.worktreePath, true);
    if (changed.length === 0) return "nothing uncommitted";
    // git lists a repository inside the worktree as one directory, and would commit it as a bare link.
    const repos = changed.filter((p) => p.endsWith("/"));
    if (repos.length > 0) {
      throw new HiveError(
        "CONFLICT",
        `${repos.join(", ")} ${repos.length === 1 ? "is a git repository" : "are git repositories"} inside the worktree; a commit would keep only a link to ${repos.length === 1 ? "it" : "them"}, not the files.`,
      );
    }
    // Counted before any file is looked at, and sized without blocking the event loop (shells share it).
    if (changed.length > KEEP_MAX_FILES) {
      throw new HiveError(
        "CONFLICT",
        `${changed.length} uncommitted files are too many to commit for you (limit: ${KEEP_MAX_FILES}); the worktree is left in place.`,
      );
    }
    let bytes = 0;
    for (const p of changed) {
      bytes += (await stat(join(cell.worktreePath, p)).catch(() => undefined))?.size ?? 0;
      if (bytes > KEEP_MAX_BYTES) {
        // Build output or dependencies a .gitignore forgot, most likely: not for a commit, nor to delete.
        throw new HiveError(
          "CONFLICT",
          `The uncommitted files are over ${KEEP_MAX_BYTES / 1024 / 1024} MB, too much to commit for you; the worktree is left in place.`,
        );
      }
    }
    const commit = await commitAll(
      cell.worktreePath,
      `Uncommitted work of the Hive cell '${cell.name}', kept when the cell was deleted`,
    );
    return `committed ${changed.length} changed file(s) onto ${cell.branchName} as ${commit.slice(0, 12)}`;
  }

  /**
   * Part of deleting a cell, before its worktree and branch go: a branch with commits its base lacks will
   * be kept, so it is recorded (and the cell marked abandoned). Answers the step's detail.
   */
  async keepIfUnmerged(cell: Cell): Promise<string> {
    if (!cell.branchName) return "no branch";
    const u = await unmergedCommits(cell.workspacePath, cell.branchName, cell.baseCommit, cell.baseRef);
    if (!u) return `${cell.branchName} is already gone`;
    if (u.ahead === 0) return `nothing unmerged on ${cell.branchName}`;
    this.record(cell.workspaceId, cell.branchName, cell.id, cell.name, u);
    setBranchStatus(this.deps.cells, this.deps.bus, cell.id, "abandoned");
    return `keeping ${cell.branchName} as abandoned: ${u.ahead} commit(s) not in ${u.against}`;
  }

  private record(
    workspaceId: string,
    branch: string,
    cellId: string,
    cellName: string,
    u: { head: string; ahead: number; against: string },
  ): void {
    this.deps.db
      .prepare(
        `INSERT INTO kept_branches (workspace_id, branch, cell_id, cell_name, head, ahead, merge_target, kept_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, branch) DO UPDATE SET cell_id = excluded.cell_id,
           cell_name = excluded.cell_name, head = excluded.head, ahead = excluded.ahead,
           merge_target = excluded.merge_target, kept_at = excluded.kept_at`,
      )
      .run(workspaceId, branch, cellId, cellName, u.head, u.ahead, u.against, new Date().toISOString());
  }

  /**
   * Cell branches (`hive/…`) with unmerged work that no cell owns and nothing recorded: a delete whose
   * "Keep unmerged work" step failed, or a Hive that died mid-delete, still kept them (worktrees/ decides
   * that on its own). They are recorded now, measured against the repository's current branch.
   */
  private async adoptOrphans(ws: Workspace, present: Set<string>, recorded: Row[]): Promise<void> {
    const owned = new Set(
      this.deps.cells
        .list()
        .filter((c) => c.workspacePath === ws.path)
        .map((c) => c.branchName),
    );
    for (const b of recorded) owned.add(b.branch);
    const orphans = [...present]
      .map((ref) => ref.slice("refs/heads/".length))
      .filter((b) => b.startsWith("hive/") && !owned.has(b));
    if (orphans.length === 0) return;
    const target = (await currentBranch(ws.path)) ?? "HEAD";
    for (const branch of orphans) {
      const u = await unmergedCommits(ws.path, branch, null, target);
      if (u && u.ahead > 0) this.record(ws.id, branch, "", branch.slice("hive/".length), u);
    }
  }

  /**
   * The workspace's kept branches, newest first; those deleted meanwhile (by git, by hand) are forgotten,
   * and cell branches kept without a record are found.
   */
  async list(workspaceId: string): Promise<KeptBranch[]> {
    const ws = this.deps.workspace(workspaceId);
    const select = this.deps.db.prepare(
      "SELECT * FROM kept_branches WHERE workspace_id = ? ORDER BY kept_at DESC, id DESC",
    );
    const refs = await git(["for-each-ref", "--format=%(refname)", "refs/heads/"], { cwd: ws.path });
    const present = new Set(refs.split("\n").filter(Boolean));
    await this.adoptOrphans(ws, present, select.all(workspaceId) as Row[]);
    const rows = select.all(workspaceId) as Row[];
    const gone = rows.filter((r) => !present.has(`refs/heads/${r.branch}`));
    const forget = this.deps.db.prepare("DELETE FROM kept_branches WHERE id = ?");
    for (const r of gone) forget.run(r.id);
    return rows.filter((r) => !gone.includes(r)).map((r) => toKept(r, ws.path));
  }

  /** Deletes a kept branch (its work is dropped for good) and forgets it. */
  async drop(workspaceId: string, keptId: number): Promise<void> {
    const ws = this.deps.workspace(workspaceId);
    const row = this.deps.db
      .prepare("SELECT * FROM kept_branches WHERE workspace_id = ? AND id = ?")
      .get(workspaceId, keptId) as Row | undefined;
    if (!row) {
      throw new HiveError("NOT_FOUND", `Workspace '${ws.name}' has no kept branch ${keptId}.`, { keptId });
    }
    try {
      await git(["branch", "-D", "--end-of-options", row.branch], { cwd: ws.path });
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      // Already deleted by hand is fine; checked out somewhere is not (git says where).
      if (!/not found/i.test(e.stderr)) {
        throw new HiveError("CONFLICT", `Cannot delete ${row.branch}: ${e.stderr.trim()}`, {
          branch: row.branch,
        });
      }
    }
    this.deps.db.prepare("DELETE FROM kept_branches WHERE id = ?").run(keptId);
  }
}
