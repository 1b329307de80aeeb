import { chmodSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DiffFile } from "../../shared/diffs.ts";
import { DIFF_LIMITS } from "../../shared/diffs.ts";
import { HiveError } from "../../shared/errors.ts";
import { type CellFixture, makeCell } from "./fixture.ts";

const lines = (n: number, prefix = "line") =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}\n`).join("");

let fx: CellFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

const byPath = (files: DiffFile[]) => new Map(files.map((f) => [f.path, f]));

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HiveError);
  expect((err as HiveError).code).toBe(code);
}

describe("diff summary", () => {
  it("lists every kind of change against the base commit, with counts", async () => {
    fx = await makeCell({
      "src/keep.ts": lines(5),
      "src/edit.ts": lines(10),
      "gone.txt": "bye\n",
      "old-name.ts": lines(40, "stable"),
      "run.sh": "echo hi\n",
      "logo.bin": Buffer.from([0, 1, 2, 3, 0, 5]),
      ".gitignore": "build/\n*.log\n",
    });
    // committed on the branch
    fx.write("src/committed.ts", "export const a = 1;\n");
    await fx.gitIn(fx.worktree, "add", "src/committed.ts");
    await fx.gitIn(fx.worktree, "commit", "-qm", "add committed");
    // staged
    await fx.gitIn(fx.worktree, "mv", "old-name.ts", "new-name.ts");
    // unstaged
    fx.write("src/edit.ts", `${lines(10).replace("line 3\n", "line three\n")}extra\n`);
    rmSync(join(fx.worktree, "gone.txt"));
    chmodSync(join(fx.worktree, "run.sh"), 0o755);
    fx.write("logo.bin", Buffer.from([0, 9, 9, 9, 0, 5]));
    // untracked, and ignored
    fx.write("notes/new file.md", "hello\nworld\n");
    fx.write("build/out.js", "ignored\n");
    fx.write("debug.log", "ignored\n");

    const s = await fx.diffs.summary(fx.cell.id);
    const files = byPath(s.files);
    expect([...files.keys()].sort()).toEqual(
      [
        "gone.txt",
        "logo.bin",
        "new-name.ts",
        "notes/new file.md",
        "run.sh",
        "src/committed.ts",
        "src/edit.ts",
      ].sort(),
    );
    expect(files.get("src/committed.ts")).toMatchObject({ status: "added", additions: 1, deletions: 0 });
    expect(files.get("src/edit.ts")).toMatchObject({ status: "modified", additions: 2, deletions: 1 });
    expect(files.get("gone.txt")).toMatchObject({
      status: "deleted",
      deletions: 1,
      oldSize: 4,
      newSize: null,
    });
    expect(files.get("new-name.ts")).toMatchObject({
      status: "renamed",
      oldPath: "old-name.ts",
      similarity: 100,
    });
    expect(files.get("run.sh")).toMatchObject({ modeChanged: true, oldMode: "100644", newMode: "100755" });
    expect(files.get("logo.bin")).toMatchObject({
      binary: true,
      collapsed: "binary",
      newSize: 6,
    });
    expect(files.get("notes/new file.md")).toMatchObject({ status: "added", additions: 2 });
    expect(s.totals).toEqual({ files: 7, additions: 1 + 2 + 2, deletions: 1 + 1 });
    expect(s.commits.map((c) => c.subject)).toEqual(["add committed"]);
    // The agent's own index is left exactly as it was: the staged rename, nothing else.
    expect(await fx.gitIn(fx.worktree, "diff", "--cached", "--name-status", "-M")).toBe(
      "R100\told-name.ts\tnew-name.ts\n",
    );
  });

  it("keeps unicode and space-containing paths and CRLF content intact", async () => {
    fx = await makeCell({ "crlf.txt": "a\r\nb\r\n" });
    fx.write("crlf.txt", "a\r\nB\r\n");
    fx.write("dïr with space/ñame ü.txt", "x\n");
    const s = await fx.diffs.summary(fx.cell.id);
    const files = byPath(s.files);
    expect(files.get("crlf.txt")).toMatchObject({ status: "modified", additions: 1, deletions: 1 });
    expect(files.get("dïr with space/ñame ü.txt")).toMatchObject({ status: "added" });
    const crlf = await fx.diffs.file(fx.cell.id, { path: "crlf.txt", compare: "base", force: false });
    expect(crlf.old.content).toBe("a\r\nb\r\n");
    expect(crlf.new.content).toBe("a\r\nB\r\n");
    const uni = await fx.diffs.file(fx.cell.id, {
      path: "dïr with space/ñame ü.txt",
      compare: "base",
      force: false,
    });
    expect(uni.old.exists).toBe(false);
    expect(uni.new.content).toBe("x\n");
  });

  it("compares uncommitted only, since the last review, and against any ref", async () => {
    fx = await makeCell({ "a.txt": "1\n" });
    fx.write("a.txt", "2\n");
    await fx.gitIn(fx.worktree, "commit", "-qam", "two");
    fx.write("b.txt", "new\n");

    expect((await fx.diffs.summary(fx.cell.id, "uncommitted")).files.map((f) => f.path)).toEqual(["b.txt"]);
    const sinceNever = await fx.diffs.summary(fx.cell.id, "since_review");
    expect(sinceNever.note).toMatch(/Not reviewed yet/);
    expect(sinceNever.files.map((f) => f.path).sort()).toEqual(["a.txt", "b.txt"]);

    await fx.diffs.markReviewed(fx.cell.id);
    fx.write("c.txt", "after review\n");
    const since = await fx.diffs.summary(fx.cell.id, "since_review");
    expect(since.note).toBeNull();
    expect(since.files.map((f) => f.path)).toEqual(["c.txt"]);

    const againstHead = await fx.diffs.summary(fx.cell.id, "ref", "HEAD~1");
    expect(againstHead.files.map((f) => f.path).sort()).toEqual(["a.txt", "b.txt", "c.txt"]);
    await expectCode(fx.diffs.summary(fx.cell.id, "ref", "no-such-branch"), "REF_INVALID");
    await expectCode(fx.diffs.summary(fx.cell.id, "ref", "--output=/tmp/x"), "REF_INVALID");
  });

  it("collapses files past the per-file and total limits but still lists them", async () => {
    fx = await makeCell({ "old-huge.txt": "y".repeat(DIFF_LIMITS.fileBytes + 20) });
    fx.write("old-huge.txt", "small now\n");
    const shrunk = await fx.diffs.file(fx.cell.id, { path: "old-huge.txt", compare: "base", force: false });
    expect(shrunk.old).toMatchObject({ exists: true, size: DIFF_LIMITS.fileBytes + 20, content: null });
    expect(shrunk.new.content).toBe("small now\n");
    const all = await fx.diffs.file(fx.cell.id, { path: "old-huge.txt", compare: "base", force: true });
    expect(all.old.content).toBe("y".repeat(DIFF_LIMITS.fileBytes + 20));
    fx.write("huge.txt", "x".repeat(DIFF_LIMITS.fileBytes + 10));
    fx.write("a-big.txt", lines(DIFF_LIMITS.totalLines + 5));
    fx.write("z-after.txt", "small\n");
    const s = await fx.diffs.summary(fx.cell.id);
    const files = byPath(s.files);
    expect(files.get("huge.txt")?.collapsed).toBe("too_large");
    expect(files.get("z-after.txt")?.collapsed).toBe("total_limit");
    const huge = await fx.diffs.file(fx.cell.id, { path: "huge.txt", compare: "base", force: false });
    expect(huge.new).toMatchObject({ exists: true, content: null, size: DIFF_LIMITS.fileBytes + 10 });
    const forced = await fx.diffs.file(fx.cell.id, { path: "huge.txt", compare: "base", force: true });
    expect(forced.new.content?.length).toBe(DIFF_LIMITS.fileBytes + 10);
  });

  it("shows a file turned into a symlink as a type change", async () => {
    fx = await makeCell({ "target.txt": "t\n", "was-file.txt": "plain\n" });
    rmSync(join(fx.worktree, "was-file.txt"));
    symlinkSync("target.txt", join(fx.worktree, "was-file.txt"));
    const s = await fx.diffs.summary(fx.cell.id);
    expect(s.files).toEqual([
      expect.objectContaining({
        path: "was-file.txt",
        status: "type_changed",
        oldMode: "100644",
        newMode: "120000",
      }),
    ]);
  });

  it("shows a file moved without git as a rename", async () => {
    fx = await makeCell({ "docs/guide.md": lines(30, "guide") });
    renameSync(join(fx.worktree, "docs/guide.md"), join(fx.worktree, "docs/handbook.md"));
    const s = await fx.diffs.summary(fx.cell.id);
    expect(s.files).toHaveLength(1);
    expect(s.files[0]).toMatchObject({
      path: "docs/handbook.md",
      oldPath: "docs/guide.md",
      status: "renamed",
    });
  });

  it("never writes the index the agent works with", async () => {
    fx = await makeCell({ "a.txt": "1\n", "b.txt": "1\n" });
    const index = (await fx.gitIn(fx.worktree, "rev-parse", "--git-path", "index")).trim();
    const abs = isAbsolute(index) ? index : join(fx.worktree, index);
    await new Promise((r) => setTimeout(r, 1100)); // past the index's own second, so a rewrite would show
    fx.write("a.txt", "2\n");
    utimesSync(join(fx.worktree, "b.txt"), new Date(), new Date()); // stale stat data git would refresh
    fx.write("new.txt", "n\n");
    const before = statSync(abs).mtimeMs;
    await fx.diffs.summary(fx.cell.id);
    await fx.diffs.markReviewed(fx.cell.id);
    expect(statSync(abs).mtimeMs).toBe(before);
  });

  it("sees a same-size edit made in the same second as the checkout", async () => {
    fx = await makeCell({ "a.txt": "1\n" });
    await fx.diffs.summary(fx.cell.id);
    fx.write("a.txt", "2\n");
    expect((await fx.diffs.summary(fx.cell.id)).files.map((f) => f.path)).toEqual(["a.txt"]);
  });

  it("refreshes after edits to the same result as computing the diff anew", async () => {
    fx = await makeCell({ "a.txt": lines(30), "b.txt": lines(30), "moved.txt": lines(40, "m") });
    fx.write("a.txt", lines(31));
    await fx.gitIn(fx.worktree, "mv", "moved.txt", "there.txt");
    const first = await fx.diffs.summary(fx.cell.id);
    fx.write("b.txt", lines(29)); // modified only: the incremental path
    fx.write("there.txt", `${lines(40, "m")}one more\n`); // a rename target, modified
    const refreshed = await fx.diffs.refresh(first, ["b.txt", "there.txt"]);
    expect(refreshed).toEqual(await fx.diffs.summary(fx.cell.id));
    expect(refreshed.files.find((f) => f.path === "there.txt")).toMatchObject({
      status: "renamed",
      oldPath: "moved.txt",
    });
    fx.write("c.txt", "new\n"); // an added file: the full path
    const again = await fx.diffs.refresh(refreshed, ["c.txt"]);
    expect(again).toEqual(await fx.diffs.summary(fx.cell.id));
    expect(again.totals.files).toBe(4);
  });

  it("marks a file viewed until its content changes", async () => {
    fx = await makeCell({ "a.txt": "1\n" });
    fx.write("a.txt", "2\n");
    await fx.diffs.setViewed(fx.cell.id, "a.txt", true);
    expect((await fx.diffs.summary(fx.cell.id)).files[0]?.viewed).toBe(true);
    fx.write("a.txt", "3\n");
    expect((await fx.diffs.summary(fx.cell.id)).files[0]?.viewed).toBe(false);
  });
});

describe("paths stay inside the worktree", () => {
  it("refuses '../x', absolute paths, .git and symlinks that lead outside", async () => {
    fx = await makeCell({ "a.txt": "1\n" });
    symlinkSync("/etc", join(fx.worktree, "etc-link"));
    symlinkSync("/etc/hostname", join(fx.worktree, "host-link"));
    const read = (path: string) => fx!.diffs.file(fx!.cell.id, { path, compare: "base", force: false });
    await expectCode(read("../x"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(read("a/../../x"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(read("/etc/passwd"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(read(".git/config"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(read("etc-link/passwd"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(read("host-link"), "PATH_OUTSIDE_WORKTREE");
    await expectCode(
      fx.diffs.addComment(fx.cell.id, { path: "../x", line: 1, side: "new", body: "b" }),
      "PATH_OUTSIDE_WORKTREE",
    );
    await expectCode(fx.diffs.setViewed(fx.cell.id, "etc-link/passwd", true), "PATH_OUTSIDE_WORKTREE");
    // A link that stays inside is fine, and shows its target as git stores it.
    symlinkSync("a.txt", join(fx.worktree, "inner-link"));
    expect((await read("inner-link")).new.content).toBe("a.txt");
  });
});
