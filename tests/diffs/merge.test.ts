import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { type CellFixture, makeCell, writeIn } from "./fixture.ts";

let fx: CellFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** Everything a merge could disturb, to compare before and after a refused or conflicting merge. */
async function repoState(f: CellFixture) {
  return {
    refs: await f.gitIn(f.repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
    mainStatus: await f.gitIn(f.repo, "status", "--porcelain", "--untracked-files=all"),
    cellStatus: await f.gitIn(f.worktree, "status", "--porcelain", "--untracked-files=all"),
    mainFile: readFileSync(join(f.repo, "shared.txt"), "utf8"),
  };
}

function watchStatus(f: CellFixture): Cell["branchStatus"][] {
  const seen: Cell["branchStatus"][] = [];
  f.bus.on("cell.updated", ({ cell }) => seen.push(cell.branchStatus));
  return seen;
}

describe("commit and merge", () => {
  it("commits the cell's changes and fast-forwards the base branch in the main checkout", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    const statuses = watchStatus(fx);
    fx.write("feature.txt", "new feature\n");
    const { commit } = await fx.diffs.commit(fx.cell.id, "Add feature");
    expect(fx.cells.get(fx.cell.id)?.branchStatus).toBe("pending_review");

    const result = await fx.diffs.merge(fx.cell.id, { strategy: "ff" });
    expect(result).toEqual({ strategy: "ff", baseBranch: "main", commit });
    expect((await fx.gitIn(fx.repo, "rev-parse", "main")).trim()).toBe(commit);
    expect(readFileSync(join(fx.repo, "feature.txt"), "utf8")).toBe("new feature\n");
    expect(await fx.gitIn(fx.repo, "status", "--porcelain")).toBe("");
    expect(statuses).toEqual(["pending_review", "merged"]);
  });

  it("squashes the branch into one commit on a base that moved on", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    fx.write("a.txt", "a\n");
    await fx.diffs.commit(fx.cell.id, "one");
    fx.write("b.txt", "b\n");
    await fx.diffs.commit(fx.cell.id, "two");
    writeIn(fx.repo, "other.txt", "someone else\n");
    await fx.gitIn(fx.repo, "add", "other.txt");
    await fx.gitIn(fx.repo, "commit", "-qm", "moved on");

    await expect(fx.diffs.merge(fx.cell.id, { strategy: "ff" })).rejects.toThrow(/cannot be fast-forwarded/);
    const result = await fx.diffs.merge(fx.cell.id, { strategy: "squash", message: "Squashed feature" });
    expect(await fx.gitIn(fx.repo, "log", "--format=%s", "-2", "main")).toBe("Squashed feature\nmoved on\n");
    expect(
      (await fx.gitIn(fx.repo, "rev-list", "--parents", "-1", result.commit)).trim().split(" "),
    ).toHaveLength(2);
    expect(readFileSync(join(fx.repo, "b.txt"), "utf8")).toBe("b\n");
    expect(fx.cells.get(fx.cell.id)?.branchStatus).toBe("merged");
  });

  it("squashes with what the branch's commits said when no message is given", async () => {
    fx = await makeCell({ "shared.txt": "base\n" }, "coupons");
    fx.write("a.txt", "a\n");
    await fx.diffs.commit(fx.cell.id, "Apply the coupon\n\nPercent coupons only.");
    fx.write("b.txt", "b\n");
    await fx.diffs.commit(fx.cell.id, "Round the discount to cents");
    await fx.gitIn(fx.worktree, "branch", "one-commit", "HEAD~1");

    await fx.diffs.merge(fx.cell.id, { strategy: "squash" });
    expect(await fx.gitIn(fx.repo, "log", "--format=%B", "-1", "main")).toBe(
      "coupons\n\n* Apply the coupon\n* Round the discount to cents\n\n",
    );

    // One commit: its whole message, body included.
    await fx.gitIn(fx.repo, "reset", "-q", "--hard", "HEAD~1");
    await fx.gitIn(fx.worktree, "reset", "-q", "--hard", "one-commit");
    await fx.diffs.merge(fx.cell.id, { strategy: "squash" });
    expect(await fx.gitIn(fx.repo, "log", "--format=%B", "-1", "main")).toBe(
      "Apply the coupon\n\nPercent coupons only.\n\n",
    );
  });

  it("makes a merge commit with both parents when the base branch is not checked out", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    await fx.gitIn(fx.repo, "checkout", "-q", "--detach");
    fx.write("a.txt", "a\n");
    await fx.diffs.commit(fx.cell.id, "one");
    const result = await fx.diffs.merge(fx.cell.id, { strategy: "merge" });
    const parents = (await fx.gitIn(fx.repo, "rev-list", "--parents", "-1", "main")).trim().split(" ");
    expect(parents).toHaveLength(3);
    expect(parents[0]).toBe(result.commit);
  });

  it("reports conflicts file by file and changes nothing", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    fx.write("shared.txt", "cell version\n");
    await fx.diffs.commit(fx.cell.id, "cell edit");
    writeIn(fx.repo, "shared.txt", "main version\n");
    await fx.gitIn(fx.repo, "commit", "-qam", "main edit");
    const before = await repoState(fx);

    const err = await fx.diffs.merge(fx.cell.id, { strategy: "merge" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFLICT", details: { conflicts: ["shared.txt"] } });
    expect(String((err as Error).message)).toMatch(/Nothing was changed/);
    expect(await repoState(fx)).toEqual(before);
    expect(fx.cells.get(fx.cell.id)?.branchStatus).toBe("conflict");
  });

  it("refuses to merge into a main checkout with uncommitted work, and says why", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    fx.write("a.txt", "a\n");
    await fx.diffs.commit(fx.cell.id, "one");
    writeIn(fx.repo, "shared.txt", "my unsaved work\n");
    const before = await repoState(fx);
    await expect(fx.diffs.merge(fx.cell.id, { strategy: "ff" })).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/uncommitted changes on main \(shared\.txt\)/),
    });
    expect(await repoState(fx)).toEqual(before);
  });

  it("says which branch a merge would go into, and that there is none on a detached HEAD", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    const mergesInto = async () => (await fx!.diffs.summary(fx!.cell.id)).mergesInto;
    expect(await mergesInto()).toBe("main");
    // The cell's base branch is gone: the main checkout's branch is where a merge goes.
    await fx.gitIn(fx.repo, "branch", "-m", "main", "trunk");
    expect(await mergesInto()).toBe("trunk");
    await fx.gitIn(fx.repo, "checkout", "-q", "--detach");
    expect(await mergesInto()).toBeNull();
  });

  it("refuses to merge while the cell itself has uncommitted changes", async () => {
    fx = await makeCell({ "shared.txt": "base\n" });
    fx.write("a.txt", "a\n");
    await expect(fx.diffs.merge(fx.cell.id, { strategy: "ff" })).rejects.toThrow(/commit them first/);
    await expect(fx.diffs.commit(fx.cell.id, "x")).resolves.toBeDefined();
    await expect(fx.diffs.commit(fx.cell.id, "again")).rejects.toThrow(/Nothing to commit/);
  });
});
