import { copyFile, rm, stat, utimes } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { git } from "../worktrees/git.ts";

/**
 * Private indexes in the worktree's git dir, so Hive never touches the index the agent or the user
 * works with. Each starts as a copy of the worktree's own index, keeping its time: git trusts a cached
 * stat only for files older than the index, and a copy dated now would make a same-size edit from the
 * last second look unchanged ("racy git").
 */

/** Where each worktree's index lives (asked of git once per worktree; the oldest is forgotten past 1,000). */
const gitDirs = new Map<string, string>();

async function privateIndex(worktree: string, name: string): Promise<{ index: string; temp: string }> {
  let dir = gitDirs.get(worktree);
  if (dir === undefined) {
    const p = (await git(["rev-parse", "--git-dir"], { cwd: worktree })).trim();
    dir = isAbsolute(p) ? p : join(worktree, p);
    gitDirs.set(worktree, dir);
    if (gitDirs.size > 1000) gitDirs.delete(gitDirs.keys().next().value!);
  }
  return { index: join(dir, "index"), temp: join(dir, name) };
}

async function copyIndex(index: string, temp: string): Promise<void> {
  try {
    const { atime, mtime } = await stat(index);
    await copyFile(index, temp);
    await utimes(temp, atime, mtime);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    await rm(temp, { force: true }); // no index yet: git builds one from scratch
  }
}

/**
 * Runs `fn` with a private copy of the worktree's index (in `env`): even `git diff` writes refreshed
 * stat data back to the index it reads, and doing that to the real one could make the agent's own git
 * commands fail on a held index.lock. `intentToAdd` then marks every untracked, not ignored file in the
 * copy, so that `git diff <commit>` sees them (and pairs moved files as renames) without writing a
 * single object.
 */
export function withWorkingIndex<T>(
  worktree: string,
  fn: (env: NodeJS.ProcessEnv, intentToAdd: () => Promise<void>) => Promise<T>,
): Promise<T> {
  return serialize(`${worktree}\0working`, async () => {
    const { index, temp } = await privateIndex(worktree, "hive-working.index");
    await copyIndex(index, temp);
    const env = { GIT_INDEX_FILE: temp };
    const intentToAdd = async () => {
      await git(["add", "--intent-to-add", "--ignore-errors", "--", "."], {
        cwd: worktree,
        env,
        timeoutMs: 300_000,
      });
    };
    return fn(env, intentToAdd);
  });
}

/**
 * The worktree as one git tree (tracked, staged, unstaged and untracked files; ignored ones left out),
 * for remembering a review point. This writes every changed file into git's object store once.
 */
export function snapshotTree(worktree: string): Promise<string> {
  return serialize(`${worktree}\0snapshot`, async () => {
    const { index, temp } = await privateIndex(worktree, "hive-snapshot.index");
    await copyIndex(index, temp);
    const env = { GIT_INDEX_FILE: temp };
    try {
      await git(["add", "-A", "--ignore-errors", "--", "."], { cwd: worktree, env, timeoutMs: 300_000 });
      return (await git(["write-tree"], { cwd: worktree, env })).trim();
    } finally {
      await rm(temp, { force: true });
    }
  });
}

const running = new Map<string, Promise<unknown>>();

/** One run at a time per private index file. */
function serialize<T>(key: string, work: () => Promise<T>): Promise<T> {
  const prev = running.get(key) ?? Promise.resolve();
  const next = prev.then(work, work);
  const tail = next.catch(() => undefined);
  running.set(key, tail);
  void tail.then(() => {
    if (running.get(key) === tail) running.delete(key);
  });
  return next;
}
