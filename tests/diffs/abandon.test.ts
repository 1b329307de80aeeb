import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { KeptBranch } from "../../shared/diffs.ts";
import type { Cell } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

let repo: TempRepo | undefined;
let h: TestHive | undefined;

afterEach(async () => {
  await h?.close();
  repo?.cleanup();
  h = undefined;
  repo = undefined;
});

const commitIn = (dir: string, file: string, text: string) => {
  writeFileSync(join(dir, file), text);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@e", ...args], { cwd: dir });
  git("add", file);
  git("commit", "-qm", `add ${file}`);
};

async function start(): Promise<{ hive: TestHive; cell: Cell }> {
  repo = makeRepo();
  h = await startHive(repo.path);
  const cell = await h.readyCell({ workspaceId: h.workspaceId, name: "gave up" });
  expect(cell.status).toBe("ready");
  return { hive: h, cell };
}

const kept = async (hive: TestHive) =>
  (await hive.api<KeptBranch[]>("GET", `/api/workspaces/${hive.workspaceId}/kept-branches`)).body;

describe("abandoned branches", () => {
  it("deleting a cell with unmerged commits keeps its branch as abandoned, listed with commands that work", async () => {
    const { hive, cell } = await start();
    commitIn(cell.worktreePath!, "idea.txt", "half done\n");
    const head = repo!.git("rev-parse", cell.branchName!).trim();
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    await hive.waitForCell(cell.id, (c) => c === undefined);

    const list = await kept(hive);
    expect(list).toHaveLength(1);
    const k = list[0]!;
    expect(k).toMatchObject({
      branch: cell.branchName,
      cellId: cell.id,
      cellName: "gave up",
      status: "abandoned",
      head,
      ahead: 1,
    });
    const steps = (await hive.api("GET", `/api/timings?cellId=${cell.id}&step=keep_unmerged_branch`)).body;
    expect(steps[0].detail).toMatch(/keeping hive\/gave-up-\w+ as abandoned: 1 commit/);

    // The printed restore command brings the work back as it was.
    execFileSync("sh", ["-c", k.restoreCommand], { stdio: "pipe" });
    const restored = `${repo!.path}-${cell.branchName!.split("/").pop()}`;
    expect(readFileSync(join(restored, "idea.txt"), "utf8")).toBe("half done\n");

    // Dropping it from Hive is refused while it is checked out, and says where.
    const busy = await hive.api("DELETE", `/api/workspaces/${hive.workspaceId}/kept-branches/${k.id}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain(cell.branchName);
    repo!.git("worktree", "remove", "--force", restored);
    const dropped = await hive.api("DELETE", `/api/workspaces/${hive.workspaceId}/kept-branches/${k.id}`);
    expect(dropped.status).toBe(204);
    expect(repo!.git("branch", "--list", cell.branchName!).trim()).toBe("");
    expect(await kept(hive)).toEqual([]);
  });

  it("lists nothing for a cell whose branch had no work of its own, and forgets branches deleted by hand", async () => {
    const { hive, cell } = await start();
    const other = await hive.readyCell({ workspaceId: hive.workspaceId, name: "second" });
    commitIn(other.worktreePath!, "b.txt", "b\n");
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    await hive.api("DELETE", `/api/cells/${other.id}`);
    await hive.waitForCell(cell.id, (c) => c === undefined);
    await hive.waitForCell(other.id, (c) => c === undefined);
    expect((await kept(hive)).map((k) => k.branch)).toEqual([other.branchName]);

    execFileSync("sh", ["-c", (await kept(hive))[0]!.deleteCommand]);
    expect(await kept(hive)).toEqual([]);
  });

  it("deleting a cell commits its uncommitted work onto its branch and keeps the branch, so nothing is lost", async () => {
    const { hive, cell } = await start();
    const wt = cell.worktreePath!;
    writeFileSync(join(wt, "README.md"), "# edited by the agent\n");
    writeFileSync(join(wt, "new-idea.txt"), "never committed\n");
    writeFileSync(join(wt, ".gitignore"), "build/\n");
    execFileSync("mkdir", ["-p", join(wt, "build")]);
    writeFileSync(join(wt, "build", "out.js"), "ignored output\n");
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    await hive.waitForCell(cell.id, (c) => c === undefined);
    expect(existsSync(wt)).toBe(false);

    const [k] = await kept(hive);
    expect(k).toMatchObject({ branch: cell.branchName, cellName: "gave up", ahead: 1 });
    const step = (await hive.api("GET", `/api/timings?cellId=${cell.id}&step=keep_uncommitted_work`)).body;
    expect(step[0]).toMatchObject({ outcome: "ok" });
    expect(step[0].detail).toMatch(/committed 3 changed file\(s\) onto hive\/gave-up-\w+ as [0-9a-f]{12}/);
    expect(repo!.git("log", "-1", "--format=%s", cell.branchName!).trim()).toBe(
      "Uncommitted work of the Hive cell 'gave up', kept when the cell was deleted",
    );
    // Restored, the worktree holds the work as it was; what .gitignore hides was not committed.
    execFileSync("sh", ["-c", k!.restoreCommand], { stdio: "pipe" });
    const restored = `${repo!.path}-${cell.branchName!.split("/").pop()}`;
    expect(readFileSync(join(restored, "new-idea.txt"), "utf8")).toBe("never committed\n");
    expect(readFileSync(join(restored, "README.md"), "utf8")).toBe("# edited by the agent\n");
    expect(existsSync(join(restored, "build"))).toBe(false);
    repo!.git("worktree", "remove", "--force", restored);
  });

  it("a delete that cannot commit the uncommitted work stops, keeping the cell and its worktree, and says why", async () => {
    const { hive, cell } = await start();
    const wt = cell.worktreePath!;
    writeFileSync(join(wt, "precious.txt"), "not to be lost\n");
    // Another git holds the worktree's index: the commit cannot happen.
    const gitDir = execFileSync("git", ["rev-parse", "--absolute-git-dir"], { cwd: wt }).toString().trim();
    expect((await hive.api("POST", `/api/cells/${cell.id}/diff/reviewed`)).status).toBe(200);
    const reviewRef = `refs/hive/reviewed/${cell.id}`;
    writeFileSync(join(gitDir, "index.lock"), "");
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    const failed = await hive.waitForCell(cell.id, (c) => c?.status === "error");
    // The stopped delete keeps the review point too: "changed since my last review" still works.
    expect(repo!.git("for-each-ref", "--format=%(refname)", reviewRef).trim()).toBe(reviewRef);

    expect(readFileSync(join(wt, "precious.txt"), "utf8")).toBe("not to be lost\n");
    expect(failed?.currentStep).toBe("remove_worktree");
    expect(failed?.lastSetupError).toContain(`Kept ${wt}: 1 file(s) with uncommitted work`);
    expect(failed?.lastSetupError).toContain("precious.txt");
    const steps = (await hive.api("GET", `/api/timings?cellId=${cell.id}&workflow=delete`)).body as {
      step: string;
      outcome: string;
      detail: string;
    }[];
    const keep = steps.find((s) => s.step === "keep_uncommitted_work");
    expect(keep).toMatchObject({ outcome: "error" });
    expect(keep?.detail).toContain("index.lock");
    expect(steps.map((s) => s.step)).not.toContain("delete_cell_record");

    // Once the other git is done, deleting again keeps the work on the branch and removes the cell.
    rmSync(join(gitDir, "index.lock"));
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    await hive.waitForCell(cell.id, (c) => c === undefined);
    expect(repo!.git("show", `${cell.branchName}:precious.txt`)).toBe("not to be lost\n");
    expect(repo!.git("for-each-ref", reviewRef).trim()).toBe("");
    expect((await kept(hive)).map((k) => k.branch)).toEqual([cell.branchName]);
  });

  it("a delete stops at a git repository inside the worktree rather than commit a bare link to it", async () => {
    const { hive, cell } = await start();
    const nested = join(cell.worktreePath!, "vendor-clone");
    execFileSync("git", ["init", "-q", nested]);
    writeFileSync(join(nested, "patched.c"), "a local patch\n");
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    const failed = await hive.waitForCell(cell.id, (c) => c?.status === "error");
    expect(failed?.lastSetupError).toContain("vendor-clone/");
    const keep = (await hive.api("GET", `/api/timings?cellId=${cell.id}&step=keep_uncommitted_work`)).body;
    expect(keep[0].detail).toContain("vendor-clone/ is a git repository inside the worktree");
    expect(readFileSync(join(nested, "patched.c"), "utf8")).toBe("a local patch\n");
  });

  it("finds cell branches kept with unmerged work that no cell owns and nothing recorded", async () => {
    // As a delete leaves them when its "Keep unmerged work" step failed, or when Hive died mid-delete.
    const { hive, cell } = await start();
    commitIn(cell.worktreePath!, "work.txt", "work\n");
    const sha = repo!.git("rev-parse", cell.branchName!).trim();
    repo!.git("branch", "hive/lost-work", sha);
    repo!.git("branch", "hive/nothing-new", "HEAD");
    repo!.git("branch", "someone-elses", sha);

    const list = await kept(hive);
    // The live cell's own branch is not kept: the cell owns it.
    expect(list.map((k) => k.branch)).toEqual(["hive/lost-work"]);
    expect(list[0]).toMatchObject({ cellId: "", cellName: "lost-work", head: sha, ahead: 1 });
    const main = repo!.git("branch", "--show-current").trim();
    expect(list[0]!.mergeTarget).toBe(main);
    // Found once, then listed like any other; dropping it deletes it.
    expect((await kept(hive)).map((k) => k.id)).toEqual([list[0]!.id]);
    const dropped = await hive.api(
      "DELETE",
      `/api/workspaces/${hive.workspaceId}/kept-branches/${list[0]!.id}`,
    );
    expect(dropped.status).toBe(204);
    expect(repo!.git("branch", "--list", "hive/lost-work").trim()).toBe("");
    expect(await kept(hive)).toEqual([]);
  });

  it("Abandon stops the cell and keeps its branch and its uncommitted work; a merged cell cannot be abandoned", async () => {
    const { hive, cell } = await start();
    commitIn(cell.worktreePath!, "kept.txt", "committed\n");
    writeFileSync(join(cell.worktreePath!, "draft.txt"), "not committed\n");

    const comment = await hive.api("POST", `/api/cells/${cell.id}/comments`, {
      path: "kept.txt",
      line: 1,
      body: "why?",
    });
    expect(comment.status).toBe(201);
    const r = await hive.api<Cell>("POST", `/api/cells/${cell.id}/abandon`);
    expect(r.status).toBe(200);
    expect(r.body.branchStatus).toBe("abandoned");
    const after = await hive.waitForCell(cell.id, (c) => c?.status === "archived");
    expect(after?.branchStatus).toBe("abandoned");
    expect(readFileSync(join(cell.worktreePath!, "draft.txt"), "utf8")).toBe("not committed\n");
    expect(repo!.git("branch", "--list", cell.branchName!)).toContain(cell.branchName!);
    // Its review stays readable while it is archived.
    const comments = await hive.api("GET", `/api/cells/${cell.id}/comments`);
    expect(comments.status).toBe(200);
    expect(comments.body.map((c: { body: string }) => c.body)).toEqual(["why?"]);
    // Restore brings it back to be worked on: no longer marked abandoned.
    expect((await hive.api("POST", `/api/cells/${cell.id}/restore`)).status).toBe(202);
    const restored = await hive.waitForCell(cell.id, (c) => c?.status === "ready");
    expect(restored?.branchStatus).toBe("active");

    const second = await hive.readyCell({ workspaceId: hive.workspaceId, name: "done" });
    commitIn(second.worktreePath!, "done.txt", "done\n");
    expect((await hive.api("POST", `/api/cells/${second.id}/merge`, { strategy: "ff" })).status).toBe(200);
    const refused = await hive.api("POST", `/api/cells/${second.id}/abandon`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/merged already/);
    expect(existsSync(second.worktreePath!)).toBe(true);
  });
});
