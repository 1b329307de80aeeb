import { constants } from "node:fs";
import { copyFile, lstat, mkdir, readlink, realpath, symlink } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { glob } from "tinyglobby";
import { HiveError } from "../../shared/errors.ts";

export interface IncludeResult {
  files: number;
  bytes: number;
  /** Files cloned copy-on-write (reflink) rather than copied. */
  cloned: number;
}

/** True when `child` is `root` or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Copies the files matching `patterns` from the repository into the worktree (usually untracked files
 * such as .env that a fresh checkout lacks). Copy-on-write where the filesystem allows, plain copy
 * otherwise. Every source and destination must stay inside its tree.
 */
export async function copyIncludes(
  repo: string,
  worktree: string,
  patterns: string[],
  onProgress?: (copied: number) => void,
): Promise<IncludeResult> {
  const result: IncludeResult = { files: 0, bytes: 0, cloned: 0 };
  if (patterns.length === 0) return result;
  for (const p of patterns) {
    if (isAbsolute(p) || p.split(/[\\/]/).includes("..")) {
      throw new HiveError(
        "TEMPLATE_INVALID",
        `include pattern '${p}' leaves the repository; use a relative pattern.`,
      );
    }
  }
  const repoReal = await realpath(repo);
  const matches = await glob(patterns, {
    cwd: repoReal,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    ignore: [".git/**"],
    expandDirectories: true,
  });
  for (const rel of matches) {
    const src = resolve(repoReal, rel);
    const dst = resolve(worktree, rel);
    if (!isInside(repoReal, src) || !isInside(worktree, dst)) {
      throw new HiveError("PATH_OUTSIDE_WORKTREE", `include '${rel}' resolves outside the repository.`);
    }
    await mkdir(dirname(dst), { recursive: true });
    const st = await lstat(src);
    if (st.isSymbolicLink()) {
      const target = await readlink(src);
      // A link that points outside the repository would hand the cell a path it must not reach.
      if (!isInside(repoReal, resolve(dirname(src), target))) continue;
      await symlink(target, dst).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
    } else {
      result.cloned += (await cloneOrCopy(src, dst)) ? 1 : 0;
      result.bytes += st.size;
    }
    result.files++;
    if (result.files % 200 === 0) onProgress?.(result.files);
  }
  return result;
}

async function cloneOrCopy(src: string, dst: string): Promise<boolean> {
  try {
    await copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    await copyFile(src, dst);
    return false;
  }
}
