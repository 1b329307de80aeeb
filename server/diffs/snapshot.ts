import { copyFile, rm, stat, utimes } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { git } from "../worktrees/git.ts";

/**
 * Private indexes in the worktree's git dir, so Hive never touches the index the agent or the user
 * works with. Each starts as a copy of the worktree's own index, keeping its time: git trusts a cached
 * stat only for files older than the index, and a copy dated now would make a same-size edit from the
 * last second look unchanged ("racy git").
 */

async function privateIndex(worktree: string, name: string): Promise<{ index: string; temp: string }> {
  const [index, temp] = (
    await git(["rev-parse", "--git-path", "index", "--git-path", name], { cwd: worktree })
  )
    .trim()
    .split("\n")
    .map((p) => (isAbsolute(p) ? p : join(worktree, p))) as [string, string];
  return { index, temp };
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
 * Runs `fn` with an index in which every untracked, not ignored file is marked intent-to-add: then
 * `git diff <commit>` compares the commit with the whole worktree (untracked files included, renames
 * among them found) without writing a single object, at the cost of `git diff --stat` itself.
 */
export function withWorkingIndex<T>(
  worktree: string,
  fn: (env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  return serialize(`${worktree}\0working`, async () => {
    const { index, temp } = await privateIndex(worktree, "hive-working.index");
    await copyIndex(index, temp);
    const env = { GIT_INDEX_FILE: temp };
    await git(["add", "--intent-to-add", "--ignore-errors", "--", "."], {
      cwd: worktree,
      env,
      timeoutMs: 300_000,
    });
    return fn(env);
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
