import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CellRepo } from "../../server/db/cells.ts";
import { type Db, openDb } from "../../server/db/connection.ts";
import { WorkspaceRepo } from "../../server/db/workspaces.ts";
import { DiffService, type PromptSink } from "../../server/diffs/diffs.ts";
import { ReviewStore } from "../../server/diffs/review-store.ts";
import { EventBus } from "../../server/events/bus.ts";
import { git } from "../../server/worktrees/git.ts";
import type { Cell } from "../../shared/records.ts";
import { cellRecord } from "../helpers/cell-record.ts";

export interface CellFixture {
  root: string;
  repo: string;
  worktree: string;
  cell: Cell;
  db: Db;
  cells: CellRepo;
  bus: EventBus;
  store: ReviewStore;
  diffs: DiffService;
  prompts: { cellId: string; text: string }[];
  write(path: string, content: string | Buffer): void;
  gitIn(dir: string, ...args: string[]): Promise<string>;
  cleanup(): void;
}

export function writeIn(dir: string, path: string, content: string | Buffer): void {
  const abs = join(dir, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
}

/**
 * A real repository on `main` with `files` committed, a real worktree for a cell on branch
 * `hive/<name>`, and a state database recording both: what the diffs room works on in production.
 */
export async function makeCell(
  files: Record<string, string | Buffer> = {},
  name = "demo",
): Promise<CellFixture> {
  const root = mkdtempSync(join(tmpdir(), "hive-diffs-"));
  const repo = join(root, "repo");
  mkdirSync(repo);
  const gitIn = (dir: string, ...args: string[]) => git(args, { cwd: dir });
  await gitIn(repo, "init", "-q", "-b", "main");
  await gitIn(repo, "config", "user.email", "test@example.com");
  await gitIn(repo, "config", "user.name", "Test");
  await gitIn(repo, "config", "core.autocrlf", "false");
  for (const [p, c] of Object.entries({ "README.md": "# demo\n", ...files })) writeIn(repo, p, c);
  await gitIn(repo, "add", "-A");
  await gitIn(repo, "commit", "-qm", "initial");
  const baseCommit = (await gitIn(repo, "rev-parse", "HEAD")).trim();
  const worktree = join(root, "cells", name);
  await gitIn(repo, "worktree", "add", "-q", "-b", `hive/${name}`, worktree, baseCommit);

  const db = openDb(join(root, "hive.db"));
  const workspaces = new WorkspaceRepo(db);
  const cells = new CellRepo(db);
  const now = new Date().toISOString();
  workspaces.insert({ id: "ws1", path: repo, slug: "repo", name: "repo", createdAt: now });
  const cell = cellRecord({
    id: `cell-${name}`,
    name,
    templateId: "default",
    workspaceId: "ws1",
    workspacePath: repo,
    worktreePath: worktree,
    branchName: `hive/${name}`,
    baseRef: "main",
    baseCommit,
  });

  cells.insert(cell);
  const bus = new EventBus();
  const store = new ReviewStore(db);
  const prompts: { cellId: string; text: string }[] = [];
  const agents: PromptSink = {
    // The agents room is tested on its own; here only what the diffs room hands it matters.
    send: async (cellId: string, text: string) => void prompts.push({ cellId, text }),
  };
  const diffs = new DiffService({ cells, bus, store, agents });
  return {
    root,
    repo,
    worktree,
    cell,
    db,
    cells,
    bus,
    store,
    diffs,
    prompts,
    gitIn,
    write: (p, c) => writeIn(worktree, p, c),
    cleanup: () => {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
