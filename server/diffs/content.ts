import { lstat, open, readlink } from "node:fs/promises";
import { DIFF_LIMITS, type FileContent, type FileSide } from "../../shared/diffs.ts";
import { GitError, git } from "../worktrees/git.ts";
import { checkRelativePath, resolveInWorktree } from "./paths.ts";

const MISSING: FileSide = { exists: false, size: 0, binary: false, content: null };

/** git's own test: a NUL byte in the first 8,000 bytes makes a file binary. */
function looksBinary(text: string): boolean {
  return text.slice(0, 8000).includes("\0");
}

function side(size: number, text: string | null): FileSide {
  if (text === null) return { exists: true, size, binary: false, content: null };
  const binary = looksBinary(text);
  return { exists: true, size, binary, content: binary ? null : text };
}

/**
 * A file as stored in a commit or tree, in one `git cat-file --batch` (header, then content). Output is
 * capped at the size limit unless forced; a blob past it is only sized, with a second, header-only call.
 */
async function blobSide(worktree: string, from: string, path: string, force: boolean): Promise<FileSide> {
  const input = `${from}:${path}\n`;
  let out: string;
  try {
    out = await git(["cat-file", "--batch"], {
      cwd: worktree,
      input,
      maxBuffer: force ? 1024 * 1024 * 1024 : DIFF_LIMITS.fileBytes + 4096,
    });
  } catch (e) {
    if (!(e instanceof GitError) || !/maxBuffer/i.test(e.message)) throw e;
    const size = Number(
      (await git(["cat-file", "--batch-check"], { cwd: worktree, input })).trim().split(" ")[2],
    );
    return { exists: true, size, binary: false, content: null };
  }
  const eol = out.indexOf("\n");
  const [, type, size] = out.slice(0, eol).split(" ");
  if (type !== "blob") return MISSING;
  const bytes = Number(size);
  if (bytes > DIFF_LIMITS.fileBytes && !force)
    return { exists: true, size: bytes, binary: false, content: null };
  return side(bytes, out.slice(eol + 1, -1)); // --batch ends each object with a newline of its own
}

/** A file as it is on disk now (a symlink shows its target, as git stores it). */
async function diskSide(worktree: string, path: string, force: boolean): Promise<FileSide> {
  const abs = await resolveInWorktree(worktree, path);
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(abs);
  } catch {
    return MISSING;
  }
  if (stat.isSymbolicLink()) return side(stat.size, await readlink(abs));
  if (!stat.isFile()) return MISSING;
  const probe = Buffer.alloc(Math.min(8000, stat.size));
  const fh = await open(abs, "r");
  try {
    await fh.read(probe, 0, probe.length, 0);
    if (probe.includes(0)) return { exists: true, size: stat.size, binary: true, content: null };
    if (stat.size > DIFF_LIMITS.fileBytes && !force) return side(stat.size, null);
    return side(stat.size, await fh.readFile("utf8"));
  } finally {
    await fh.close();
  }
}

/** Both sides of one file for the review editor: `from` (a commit or tree) against the worktree now. */
export async function fileContent(
  worktree: string,
  from: string,
  path: string,
  oldPath: string | undefined,
  force: boolean,
): Promise<FileContent> {
  const newPath = checkRelativePath(path);
  const before = oldPath === undefined ? newPath : checkRelativePath(oldPath);
  const [oldSide, newSide] = await Promise.all([
    blobSide(worktree, from, before, force),
    diskSide(worktree, newPath, force),
  ]);
  return { path: newPath, oldPath: oldPath === undefined ? null : before, old: oldSide, new: newSide };
}
