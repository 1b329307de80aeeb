import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { HiveError } from "../../shared/errors.ts";

function outside(path: string, why: string): HiveError {
  return new HiveError(
    "PATH_OUTSIDE_WORKTREE",
    `'${path}' ${why}; paths must stay inside the cell's worktree.`,
    {
      path,
    },
  );
}

/** Checks a path as written: relative, no '..' segment, no NUL, never the .git directory. */
export function checkRelativePath(path: string): string {
  if (path.includes("\0")) throw outside(path, "contains a NUL byte");
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path)) throw outside(path, "is absolute");
  const parts = path.split(/[\\/]/);
  if (parts.includes("..")) throw outside(path, "contains '..'");
  if (parts[0] === ".git") throw outside(path, "is inside .git");
  return parts.filter((p) => p !== "" && p !== ".").join("/");
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * Resolves a worktree-relative path to an absolute one, following symlinks: a link (or a parent
 * directory link) that ends up outside the worktree is refused. A path that does not exist (a deleted
 * file) is checked through its nearest existing parent.
 */
export async function resolveInWorktree(worktree: string, path: string): Promise<string> {
  const clean = checkRelativePath(path);
  const root = await realpath(worktree);
  let probe = join(root, clean);
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real)) throw outside(path, "resolves (through a symlink) outside the worktree");
      return join(root, clean);
    } catch (e) {
      if (e instanceof HiveError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
      const parent = dirname(probe);
      if (parent === probe || !isInside(root, parent)) return join(root, clean);
      probe = parent;
    }
  }
}
