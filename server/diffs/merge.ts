import type { MergeBody, MergeResult } from "../../shared/diffs.ts";
import { HiveError } from "../../shared/errors.ts";
import { GitError, git } from "../worktrees/git.ts";
import { dirtyFiles } from "../worktrees/worktrees.ts";

/** Used only when the repository has no identity configured, so a commit never fails for want of one. */
const FALLBACK_IDENTITY = {
  GIT_AUTHOR_NAME: "Hive",
  GIT_AUTHOR_EMAIL: "hive@localhost",
  GIT_COMMITTER_NAME: "Hive",
  GIT_COMMITTER_EMAIL: "hive@localhost",
};

async function identityEnv(cwd: string): Promise<Record<string, string>> {
  try {
    await git(["var", "GIT_COMMITTER_IDENT"], { cwd });
    await git(["var", "GIT_AUTHOR_IDENT"], { cwd });
    return {};
  } catch {
    return FALLBACK_IDENTITY;
  }
}

/** Commits everything in the worktree (tracked, untracked, deletions) with the message. */
export async function commitAll(worktree: string, message: string): Promise<string> {
  await git(["add", "-A", "--", "."], { cwd: worktree });
  if ((await dirtyFiles(worktree)).length === 0) {
    throw new HiveError("CELL_STATE", "Nothing to commit: the worktree has no changes.");
  }
  const env = await identityEnv(worktree);
  await git(["commit", "--no-verify", "-q", "-m", message], { cwd: worktree, env });
  return (await git(["rev-parse", "HEAD"], { cwd: worktree })).trim();
}

async function revParse(repo: string, ref: string): Promise<string> {
  return (await git(["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`], { cwd: repo })).trim();
}

async function isAncestor(repo: string, a: string, b: string): Promise<boolean> {
  try {
    await git(["merge-base", "--is-ancestor", a, b], { cwd: repo });
    return true;
  } catch (e) {
    if (e instanceof GitError && e.exitCode === 1) return false;
    throw e;
  }
}

/** The worktree that has `branch` checked out, if any. */
async function checkoutOf(repo: string, branch: string): Promise<string | undefined> {
  const list = await git(["worktree", "list", "--porcelain", "-z"], { cwd: repo });
  let path: string | undefined;
  for (const field of list.split("\0")) {
    if (field.startsWith("worktree ")) path = field.slice("worktree ".length);
    else if (field === `branch refs/heads/${branch}`) return path;
  }
  return undefined;
}

/**
 * A squash keeps what its commits said: the one commit's own message, or the title over the list of
 * their subjects (as forges write it), instead of a message that names only the branch.
 */
async function squashMessage(repo: string, base: string, head: string, title: string): Promise<string> {
  const log = await git(["log", "--reverse", "--format=%B%x00", `${base}..${head}`], { cwd: repo });
  const messages = log
    .split("\0")
    .map((m) => m.trim())
    .filter(Boolean);
  if (messages.length === 1) return messages[0]!;
  return [title, "", ...messages.map((m) => `* ${m.split("\n")[0]}`)].join("\n");
}

/**
 * Finds merge conflicts without touching any worktree or ref (`git merge-tree --write-tree` works on
 * objects only). Returns the merged tree, or the conflicted paths.
 */
async function mergeTree(
  repo: string,
  base: string,
  head: string,
): Promise<{ tree: string } | { conflicts: string[] }> {
  try {
    const out = await git(["merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base, head], {
      cwd: repo,
    });
    return { tree: out.split("\0")[0]!.trim() };
  } catch (e) {
    if (!(e instanceof GitError) || e.exitCode !== 1) throw e;
    const [, ...files] = e.stdout.split("\0");
    return { conflicts: [...new Set(files.filter(Boolean))] };
  }
}

export interface MergeRequest extends MergeBody {
  repo: string;
  branch: string;
  baseBranch: string;
  /** What the work is called (the cell's name): the default message's subject. */
  title: string;
}

export type MergeOutcome = { ok: true; result: MergeResult } | { ok: false; conflicts: string[] };

/**
 * Merges `branch` into `baseBranch` in the main repository: fast-forward, merge commit or squash.
 * Conflicts are found first on objects alone, so a conflict report leaves every worktree, index and
 * ref as it was. A base branch checked out with uncommitted changes is refused, never overwritten.
 */
export async function mergeBranch(req: MergeRequest): Promise<MergeOutcome> {
  const { repo, branch, baseBranch, strategy } = req;
  const head = await revParse(repo, `refs/heads/${branch}`);
  const base = await revParse(repo, `refs/heads/${baseBranch}`);
  const checkout = await checkoutOf(repo, baseBranch);
  if (checkout) {
    const dirty = await dirtyFiles(checkout);
    if (dirty.length > 0) {
      throw new HiveError(
        "CONFLICT",
        `${checkout} has uncommitted changes on ${baseBranch} (${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", ..." : ""}); commit or stash them there first, then merge again.`,
        { worktree: checkout, files: dirty },
      );
    }
  }
  if (await isAncestor(repo, head, base)) {
    throw new HiveError(
      "CELL_STATE",
      `Nothing to merge: ${baseBranch} already contains every commit of ${branch}.`,
    );
  }

  let next: string;
  if (strategy === "ff") {
    if (!(await isAncestor(repo, base, head))) {
      throw new HiveError(
        "CONFLICT",
        `${baseBranch} has moved on since ${branch} forked, so it cannot be fast-forwarded; merge with a merge commit or squash instead.`,
      );
    }
    next = head;
  } else {
    const merged = await mergeTree(repo, base, head);
    if ("conflicts" in merged) return { ok: false, conflicts: merged.conflicts };
    const parents = strategy === "merge" ? ["-p", base, "-p", head] : ["-p", base];
    const message =
      req.message ??
      (strategy === "squash"
        ? await squashMessage(repo, base, head, req.title)
        : `Merge ${branch}: ${req.title}`);
    const env = await identityEnv(repo);
    next = (await git(["commit-tree", merged.tree, ...parents, "-m", message], { cwd: repo, env })).trim();
  }

  if (checkout) {
    // The checkout is clean, and `next` descends from its HEAD: a fast-forward moves files and ref together.
    try {
      await git(["merge", "--ff-only", "-q", next], { cwd: checkout });
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      throw new HiveError(
        "CONFLICT",
        `Merging into ${checkout} was refused by git; nothing changed: ${e.stderr.trim()}`,
      );
    }
  } else {
    await git(["update-ref", "-m", `hive: ${strategy} ${branch}`, `refs/heads/${baseBranch}`, next, base], {
      cwd: repo,
    });
  }
  return { ok: true, result: { strategy, baseBranch, commit: next } };
}
