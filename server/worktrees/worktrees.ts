import { existsSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { HiveError } from "../../shared/errors.ts";
import { GitError, git } from "./git.ts";

/** The commit a ref names, or REF_INVALID naming the ref. */
export async function resolveBase(repo: string, ref: string): Promise<string> {
  if (ref.startsWith("-")) throw new HiveError("REF_INVALID", `'${ref}' is not a branch or commit.`);
  try {
    return (
      await git(["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`], { cwd: repo })
    ).trim();
  } catch {
    throw new HiveError("REF_INVALID", `'${ref}' is not a branch or commit in ${repo}.`, { baseRef: ref });
  }
}

/** The branch checked out in the repository, or undefined on a detached HEAD. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  try {
    return (await git(["symbolic-ref", "--quiet", "--short", "HEAD"], { cwd: repo })).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function branchExists(repo: string, branch: string): Promise<boolean> {
  try {
    await git(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repo });
    return true;
  } catch {
    return false;
  }
}

/**
 * `git worktree add -b <branch> <path> <base>`. Idempotent for retries: a worktree already at the path on
 * the branch is accepted as done.
 */
export async function addWorktree(
  repo: string,
  path: string,
  branch: string,
  baseCommit: string,
): Promise<string> {
  if (existsSync(path)) {
    const list = await git(["worktree", "list", "--porcelain"], { cwd: repo });
    if (list.includes(`worktree ${path}\n`) && list.includes(`branch refs/heads/${branch}\n`)) {
      return "worktree already present";
    }
    throw new HiveError(
      "CONFLICT",
      `${path} already exists and is not this cell's worktree; remove it or retry.`,
    );
  }
  await mkdir(dirname(path), { recursive: true });
  const args = (await branchExists(repo, branch))
    ? ["worktree", "add", path, branch] // left behind by an interrupted attempt
    : ["worktree", "add", "-b", branch, path, baseCommit];
  await git(args, { cwd: repo, timeoutMs: 10 * 60_000 });
  return `${branch} at ${baseCommit.slice(0, 12)}`;
}

/** Removes a worktree even if git has lost track of it or it holds changes (the cell is being deleted). */
export async function removeWorktree(repo: string, path: string): Promise<string> {
  if (!existsSync(path)) {
    await git(["worktree", "prune"], { cwd: repo });
    return "already gone";
  }
  try {
    await git(["worktree", "remove", "--force", "--force", path], { cwd: repo, timeoutMs: 5 * 60_000 });
    return "removed";
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
    rmSync(path, { recursive: true, force: true });
    await git(["worktree", "prune"], { cwd: repo });
    return `removed by hand after: ${e.stderr.trim()}`;
  }
}

/** Paths with uncommitted changes to tracked files, and with `untracked` also new files git does not ignore. */
export async function dirtyFiles(worktree: string, untracked = false): Promise<string[]> {
  // No optional locks: status must not write the index while the agent may be using it.
  const out = await git(["status", "--porcelain", "-z", `--untracked-files=${untracked ? "all" : "no"}`], {
    cwd: worktree,
    env: { GIT_OPTIONAL_LOCKS: "0" },
  });
  const paths: string[] = [];
  const tokens = out.split("\0");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "") continue;
    paths.push(t.slice(3));
    if (t[0] === "R" || t[0] === "C") i++; // the rename's source follows as its own token
  }
  return paths;
}

/** How far a cell's branch is ahead of what it would merge into; undefined when the branch is gone. */
export async function unmergedCommits(
  repo: string,
  branch: string,
  baseCommit: string | null,
  mergeTarget: string | null,
): Promise<{ head: string; ahead: number; against: string } | undefined> {
  if (!(await branchExists(repo, branch))) return undefined;
  const head = (await git(["rev-parse", `refs/heads/${branch}`], { cwd: repo })).trim();
  const against = mergeTarget && (await branchExists(repo, mergeTarget)) ? mergeTarget : baseCommit;
  if (!against) return { head, ahead: 0, against: head };
  const ahead = Number(
    (await git(["rev-list", "--count", `refs/heads/${branch}`, "--not", against], { cwd: repo })).trim(),
  );
  return { head, ahead, against };
}

/**
 * Deletes the cell's branch unless it holds commits that its base does not: those are kept, and said so.
 * `mergeTarget` is the base branch if the cell forked from one (work merged there is safe to drop).
 */
export async function deleteBranch(
  repo: string,
  branch: string,
  baseCommit: string | null,
  mergeTarget: string | null,
): Promise<string> {
  const unmerged = await unmergedCommits(repo, branch, baseCommit, mergeTarget);
  if (!unmerged) return "already gone";
  if (unmerged.ahead > 0) {
    return `kept ${branch}: ${unmerged.ahead} commit(s) not merged into ${unmerged.against}`;
  }
  await git(["branch", "-D", "--end-of-options", branch], { cwd: repo });
  return `deleted ${branch}`;
}
