import { lstatSync } from "node:fs";
import { join } from "node:path";
import { type CollapseReason, DIFF_LIMITS, type DiffFile } from "../../shared/diffs.ts";
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

/** One file as `git diff --raw --numstat` names and counts it, before sizes and limits. */
type Entry = RawEntry & { add: number; del: number; binary: boolean };

/**
 * Parses `git diff --raw --numstat -z` output: raw records (`:modes oids status\0path\0`, two paths for
 * renames) followed by numstat records in the same order (`add\tdel\tpath\0`, or
 * `add\tdel\t\0old\0new\0` for renames; `-` counts mean binary).
 */
export function parseRawNumstat(out: string): Entry[] {
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
  return raw.map((r, n) => ({ ...r, ...(counts[n] ?? { add: 0, del: 0, binary: false }) }));
}

const DIFF_ARGS = [
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
];
/** Untracked plus deleted files diffed again by path; past this the whole diff runs once more instead. */
const MAX_SECOND_PASS_PATHS = 1000;

async function gitDiff(worktree: string, from: string, paths?: string[], env: NodeJS.ProcessEnv = {}) {
  const out = await git([...DIFF_ARGS, from, "--", ...(paths ?? [])], {
    cwd: worktree,
    env: { ...env, GIT_LITERAL_PATHSPECS: "1" },
    maxBuffer: 512 * 1024 * 1024,
    timeoutMs: 300_000,
  });
  return parseRawNumstat(out);
}

async function untrackedFiles(worktree: string, paths?: string[]): Promise<string[]> {
  const out = await git(["ls-files", "--others", "--exclude-standard", "-z", "--", ...(paths ?? [])], {
    cwd: worktree,
    env: { GIT_LITERAL_PATHSPECS: "1" },
    maxBuffer: 512 * 1024 * 1024,
  });
  return out.split("\0").filter(Boolean);
}

/**
 * `from` against the worktree as it is: `git diff <from>` (exactly git's own `diff --stat` work) with
 * the untracked files listed beside it. Untracked files then join through intent-to-add entries (see
 * withWorkingIndex), diffed together with the deleted files so that a file moved without git pairs up
 * as a rename.
 */
async function changedEntries(worktree: string, from: string, paths?: string[]): Promise<Entry[]> {
  return withWorkingIndex(worktree, async (env, intentToAdd) => {
    const [tracked, untracked] = await Promise.all([
      gitDiff(worktree, from, paths, env),
      untrackedFiles(worktree, paths),
    ]);
    if (untracked.length === 0) return tracked;
    await intentToAdd();
    const deleted = tracked.filter((e) => e.status === "deleted").map((e) => e.path);
    const again = [...untracked, ...deleted];
    if (again.length > MAX_SECOND_PASS_PATHS) return gitDiff(worktree, from, paths, env);
    const extra = await gitDiff(worktree, from, again, env);
    const redone = new Set(deleted);
    return [...tracked.filter((e) => !redone.has(e.path)), ...extra];
  });
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
  // Synchronous stats are several times faster than a promise each; yield between chunks instead.
  for (let i = 0; i < paths.length; i += 1000) {
    if (i > 0) await new Promise((r) => setImmediate(r));
    for (const p of paths.slice(i, i + 1000)) {
      const st = lstatSync(join(worktree, p), { throwIfNoEntry: false });
      if (st) sizes.set(p, st.size);
    }
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
  const raw = await changedEntries(worktree, from, paths);
  // Old sizes only where no new side tells the size: looking up every old blob costs more than the diff.
  const oids = new Set<string>();
  for (const r of raw) if (r.status === "deleted" && r.oldBlob && r.oldMode !== "160000") oids.add(r.oldBlob);
  const [sizes, onDisk] = await Promise.all([
    blobSizes(worktree, [...oids]),
    diskSizes(
      worktree,
      raw.filter((r) => r.status !== "deleted").map((r) => r.path),
    ),
  ]);
  return raw
    .map((r): DiffFile => {
      const oldSize = r.oldBlob ? (sizes.get(r.oldBlob) ?? null) : null;
      const newSize = r.status === "deleted" ? null : (onDisk.get(r.path) ?? null);
      let collapsed: CollapseReason | null = null;
      if (r.binary) collapsed = "binary";
      else if (
        Math.max(oldSize ?? 0, newSize ?? 0) > DIFF_LIMITS.fileBytes ||
        r.add + r.del > DIFF_LIMITS.fileLines
      )
        collapsed = "too_large";
      return {
        path: r.path,
        oldPath: r.oldPath,
        status: r.status,
        similarity: r.similarity,
        oldMode: r.oldMode,
        newMode: r.newMode,
        modeChanged: r.oldMode !== null && r.newMode !== null && r.oldMode !== r.newMode,
        binary: r.binary,
        additions: r.add,
        deletions: r.del,
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
