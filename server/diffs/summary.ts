import { type CollapseReason, DIFF_LIMITS, type DiffFile } from "../../shared/diffs.ts";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { git } from "../worktrees/git.ts";
import { withWorkingIndex } from "./snapshot.ts";

const ZERO_OID = /^0+$/;

/** One file as `git diff --raw` names it, before sizes and limits are applied. */
interface RawEntry {
  status: DiffFile["status"];
  path: string;
  oldPath: string | null;
  similarity: number | null;
  oldMode: string | null;
  newMode: string | null;
  oldBlob: string | null;
}

const STATUS: Record<string, DiffFile["status"]> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "added",
  T: "type_changed",
};

/**
 * Parses `git diff-tree -r -M --raw --numstat -z` output: raw records (`:modes oids status\0path\0`,
 * two paths for renames) followed by numstat records in the same order (`add\tdel\tpath\0`, or
 * `add\tdel\t\0old\0new\0` for renames; `-` counts mean binary).
 */
export function parseRawNumstat(out: string): {
  raw: RawEntry[];
  counts: { add: number; del: number; binary: boolean }[];
} {
  const tokens = out.split("\0");
  const raw: RawEntry[] = [];
  const counts: { add: number; del: number; binary: boolean }[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i++]!;
    if (t === "") continue;
    if (t.startsWith(":")) {
      const [oldMode, newMode, oldBlob, , statusField] = t.slice(1).split(" ") as string[];
      const letter = statusField!.charAt(0);
      const twoPaths = letter === "R" || letter === "C";
      const first = tokens[i++]!;
      const second = twoPaths ? tokens[i++]! : null;
      raw.push({
        status: STATUS[letter] ?? "modified",
        path: second ?? first,
        oldPath: letter === "R" ? first : null,
        similarity: twoPaths ? Number(statusField!.slice(1)) : null,
        oldMode: oldMode === "000000" ? null : oldMode!,
        newMode: newMode === "000000" ? null : newMode!,
        oldBlob: ZERO_OID.test(oldBlob!) ? null : oldBlob!,
      });
    } else {
      const [add, del, path] = t.split("\t") as [string, string, string];
      if (path === "") i += 2; // rename: the two paths follow as their own tokens
      const binary = add === "-";
      counts.push({ add: binary ? 0 : Number(add), del: binary ? 0 : Number(del), binary });
    }
  }
  return { raw, counts };
}

/** Sizes of blobs, in one `git cat-file --batch-check` for the whole change. */
async function blobSizes(worktree: string, oids: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (oids.length === 0) return sizes;
  const out = await git(["cat-file", "--batch-check=%(objectname) %(objectsize)"], {
    cwd: worktree,
    input: `${oids.join("\n")}\n`,
  });
  for (const line of out.split("\n")) {
    const [oid, size] = line.split(" ");
    if (oid && size && size !== "missing") sizes.set(oid, Number(size));
  }
  return sizes;
}

export const byPath = (a: DiffFile, b: DiffFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Sizes of files on disk (the new side), a bounded number of stats at a time. */
async function diskSizes(worktree: string, paths: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (let i = 0; i < paths.length; i += 256) {
    const chunk = paths.slice(i, i + 256);
    const stats = await Promise.all(chunk.map((p) => lstat(join(worktree, p)).catch(() => undefined)));
    stats.forEach((st, n) => {
      if (st) sizes.set(chunk[n]!, st.size);
    });
  }
  return sizes;
}

/**
 * Every changed file between a commit (or tree) and the worktree as it is, with status, counts and
 * sizes, sorted by path; `paths` limits it to those files. Untracked files take part through an
 * intent-to-add index (see withWorkingIndex). Uses git's name/number output only, never full
 * patches, so a change of tens of thousands of files still lists quickly. Binary and oversized files
 * come back collapsed; limits over the whole list are `applyTotalLimits`'s job.
 */
export async function diffFiles(worktree: string, from: string, paths?: string[]): Promise<DiffFile[]> {
  const args = [
    "diff",
    "-M",
    "--raw",
    "--numstat",
    "-z",
    "--no-abbrev",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--ignore-submodules=none",
    from,
    "--",
    ...(paths ?? []),
  ];
  const out = await withWorkingIndex(worktree, (env) =>
    git(args, {
      cwd: worktree,
      env: { ...env, GIT_LITERAL_PATHSPECS: "1" },
      maxBuffer: 512 * 1024 * 1024,
      timeoutMs: 300_000,
    }),
  );
  const { raw, counts } = parseRawNumstat(out);
  const oids = new Set<string>();
  for (const r of raw) if (r.oldBlob && r.oldMode !== "160000") oids.add(r.oldBlob);
  const [sizes, onDisk] = await Promise.all([
    blobSizes(worktree, [...oids]),
    diskSizes(
      worktree,
      raw.filter((r) => r.status !== "deleted").map((r) => r.path),
    ),
  ]);
  return raw
    .map((r, n): DiffFile => {
      const c = counts[n] ?? { add: 0, del: 0, binary: false };
      const oldSize = r.oldBlob ? (sizes.get(r.oldBlob) ?? null) : null;
      const newSize = r.status === "deleted" ? null : (onDisk.get(r.path) ?? null);
      let collapsed: CollapseReason | null = null;
      if (c.binary) collapsed = "binary";
      else if (Math.max(oldSize ?? 0, newSize ?? 0) > DIFF_LIMITS.fileBytes) collapsed = "too_large";
      return {
        path: r.path,
        oldPath: r.oldPath,
        status: r.status,
        similarity: r.similarity,
        oldMode: r.oldMode,
        newMode: r.newMode,
        modeChanged: r.oldMode !== null && r.newMode !== null && r.oldMode !== r.newMode,
        binary: c.binary,
        additions: c.add,
        deletions: c.del,
        oldSize,
        newSize,
        collapsed,
        viewed: false,
      };
    })
    .sort(byPath);
}

/**
 * Collapses files, in list order, once the diff as a whole passes the forge-like limits (lines, or
 * estimated patch bytes), so the review pane never tries to render a gigantic change at once.
 */
export function applyTotalLimits(files: DiffFile[]): DiffFile[] {
  let lines = 0;
  let patchBytes = 0;
  return files.map((f) => {
    lines += f.additions + f.deletions;
    // A patch is about as big as the lines it touches; whole-file adds and deletes are the file itself.
    patchBytes += Math.min((f.oldSize ?? 0) + (f.newSize ?? 0), (f.additions + f.deletions) * 100);
    if (f.collapsed === "binary" || f.collapsed === "too_large") return f;
    const over = lines > DIFF_LIMITS.totalLines || patchBytes > DIFF_LIMITS.totalPatchBytes;
    const collapsed = over ? "total_limit" : null;
    return f.collapsed === collapsed ? f : { ...f, collapsed };
  });
}

/** Commits reachable from `head` but not from `base`, newest first. */
export async function commitsSince(worktree: string, base: string, head = "HEAD", max = 200) {
  const out = await git(["log", `--max-count=${max}`, "--format=%H%x1f%s", `${base}..${head}`, "--"], {
    cwd: worktree,
  });
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [sha, subject] = line.split("\x1f") as [string, string];
      return { sha, subject };
    });
}
