import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { type BrowserApp, openApp } from "../browser/browser.ts";
import type { TestHive } from "../helpers/server.ts";

/** Abandoned work in the web app: kept branches under their workspace, and "Abandon" in the review pane. */
describe("abandoned work in the browser", () => {
  let app: BrowserApp;
  let hive: TestHive;
  let page: Page;

  beforeAll(async () => {
    app = await openApp({ viewport: { width: 1600, height: 900 } });
    ({ hive, page } = app);
  }, 120_000);

  afterAll(() => app?.close());

  /** A ready cell with one uncommitted file, open in the page with its Finish panel unfolded. */
  async function finishing(name: string, file: string, text: string) {
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name });
    writeFileSync(join(cell.worktreePath!, file), text);
    await page.goto(`${hive.url}/cells/${cell.id}`);
    const finish = page.locator("hive-diff-finish");
    await finish.locator("summary").click();
    return { cell, finish };
  }

  it("lists a deleted cell's unmerged branch under its workspace, and drops it from there", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-kept-fail.png" });
    });
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "spike" });
    writeFileSync(join(cell.worktreePath!, "spike.txt"), "idea\n");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@e", ...args], {
        cwd: cell.worktreePath!,
      });
    git("add", "spike.txt");
    git("commit", "-qm", "spike");
    await hive.api("DELETE", `/api/cells/${cell.id}`);
    await hive.waitForCell(cell.id, (c) => c === undefined);

    const kept = page.locator("hive-kept-branches");
    await kept.getByText("Kept branches (1)").click();
    const item = kept.locator(`[data-kept-branch='${cell.branchName}']`);
    await item.getByText("1 commit not in main").waitFor();
    expect(await item.locator("code").first().textContent()).toContain(`worktree add`);
    await item.getByRole("button", { name: "Delete branch" }).click(); // the confirm is accepted
    await item.waitFor({ state: "detached" });
    expect(app.repo.git("branch", "--list", cell.branchName!).trim()).toBe("");
  });

  it("Delete in the cell's header keeps the uncommitted work on the branch, as its confirmation says", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-delete-uncommitted-fail.png" });
    });
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "unsaved" });
    writeFileSync(join(cell.worktreePath!, "unsaved.txt"), "the agent's edit, never committed\n");
    const asked: string[] = [];
    page.on("dialog", (d) => asked.push(d.message())); // accepted by the page's own handler
    await page.goto(`${hive.url}/cells/${cell.id}`);
    await page.locator("hive-cell-view header").getByRole("button", { name: "Delete" }).click();
    await hive.waitForCell(cell.id, (c) => c === undefined);
    expect(asked.at(-1)).toContain("Work not yet merged, committed or not, stays on its branch");

    const kept = page.locator("hive-kept-branches");
    const item = kept.locator(`[data-kept-branch='${cell.branchName}']`);
    if (!(await item.isVisible())) await kept.getByText(/Kept branches/).click();
    await item.getByText("1 commit not in main").waitFor();
    expect(app.repo.git("show", `${cell.branchName}:unsaved.txt`)).toBe(
      "the agent's edit, never committed\n",
    );
    await page.screenshot({ path: "/tmp/h4-delete-uncommitted.png" });
  });

  it("a delete that could not keep the uncommitted work shows why on the cell, and Delete there finishes it", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-delete-stopped-fail.png" });
    });
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "locked" });
    writeFileSync(join(cell.worktreePath!, "locked.txt"), "kept through it all\n");
    const gitDir = execFileSync("git", ["rev-parse", "--absolute-git-dir"], { cwd: cell.worktreePath! })
      .toString()
      .trim();
    writeFileSync(join(gitDir, "index.lock"), ""); // another git at work in the worktree
    await page.goto(`${hive.url}/cells/${cell.id}`);
    await page.locator("hive-cell-view header").getByRole("button", { name: "Delete" }).click();

    const checklist = page.locator("hive-provisioning-checklist");
    await checklist.getByText("Deleting stopped rather than lose work").waitFor({ timeout: 30_000 });
    const failure = checklist.locator("section.failure");
    expect(await failure.locator("h2").textContent()).toBe("“Remove worktree” failed");
    expect(await failure.locator("pre").textContent()).toContain("locked.txt");
    expect(await checklist.locator("li[data-step='keep_uncommitted_work']").getAttribute("data-state")).toBe(
      "failed",
    );
    await page.screenshot({ path: "/tmp/h4-delete-stopped.png" });

    rmSync(join(gitDir, "index.lock"));
    await failure.getByRole("button", { name: "Delete" }).click();
    await hive.waitForCell(cell.id, (c) => c === undefined);
    expect(app.repo.git("show", `${cell.branchName}:locked.txt`)).toBe("kept through it all\n");
  });

  it("Finish in the review pane asks for a message, commits on Enter, and squashes into main", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-finish-fail.png" });
    });
    const { cell, finish } = await finishing("finished", "done.txt", "done\n");
    const message = finish.getByLabel("Commit message");
    await finish.getByRole("button", { name: "Commit" }).click();
    expect(await message.evaluate((e) => (e as HTMLInputElement).validationMessage)).toBe(
      "Write a commit message first.",
    );
    expect(app.repo.git("rev-parse", cell.branchName!)).toBe(app.repo.git("rev-parse", "main"));

    await message.fill("Finish the work");
    await message.press("Enter");
    const review = page.locator("hive-diff-review");
    await review.getByText(/^Committed [0-9a-f]{10}\.$/).waitFor({ timeout: 30_000 });
    expect(await message.inputValue()).toBe("");
    await finish.getByLabel("Merge strategy").selectOption("squash");
    // The button says where the work goes.
    await finish.getByRole("button", { name: "Merge into main" }).click();
    await review.getByText(/^Merged into main \(squash\)/).waitFor({ timeout: 30_000 });
    await page
      .locator(`hive-cell-list a[data-cell-id='${cell.id}'] [data-branch='merged']`)
      .waitFor({ timeout: 30_000 });
    expect(app.repo.git("log", "--format=%s", "-1", "main").trim()).toBe("Finish the work");
  });

  it("Abandon in the review pane stops the cell and marks its branch abandoned in the sidebar", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-abandon-fail.png" });
    });
    const { cell, finish } = await finishing("given up", "draft.txt", "unfinished\n");
    await finish.getByRole("button", { name: "Abandon…" }).click();
    const link = page.locator(`hive-cell-list a[data-cell-id='${cell.id}']`);
    await link.locator("[data-branch='abandoned']").waitFor({ timeout: 30_000 });
    await link.locator("[data-status='archived']").waitFor({ timeout: 30_000 });
    expect(app.repo.git("branch", "--list", cell.branchName!)).toContain(cell.branchName!);
  });
});
