import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { type AgentWorld, startAgentWorld } from "../agents/harness.ts";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { cellLink } from "../browser/ui.ts";
import { requestText } from "../fixtures/model-server.ts";

/**
 * The review pane in a real Chromium against a real Hive, a real OpenCode and the scripted model: the
 * agent edits a file, the diff shows it live, a comment made from the editor's gutter survives a
 * reload, and "Send review to agent" reaches the model with the comment in it.
 */
describe("the diff review pane", () => {
  let world: AgentWorld;
  let browser: Browser;
  let page: Page;
  let cell: Cell;

  beforeAll(async () => {
    world = await startAgentWorld({
      files: { "src/calc.js": "export function add(a, b) {\n  return a + b;\n}\n" },
    });
    const created = await world.createCell({ name: "Reviewed" });
    cell = await world.waitForSession(created.id);
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(world.hive), {
      width: 1600,
      height: 900,
    });
    await page.goto(`${world.hive.url}/cells/${cell.id}`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("shows the agent's edit live, keeps a gutter comment across a reload, and sends it to the agent", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-review-fail.png" });
    });
    const review = page.locator("hive-diff-review");
    await review.getByText("No changes.").waitFor({ timeout: 30_000 });

    // The agent (scripted model, real OpenCode tool) rewrites the file; nothing reloads the page.
    world.model.script(
      {
        toolCalls: [
          {
            name: "write",
            args: {
              filePath: `${cell.worktreePath}/src/calc.js`,
              content: "export function add(a, b) {\n  return a - b;\n}\n",
            },
          },
        ],
      },
      { text: ["Changed it."] },
    );
    const r = await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Edit calc.js" });
    expect(r.status).toBeLessThan(300);
    const row = review.locator("hive-diff-file-list [data-path='src/calc.js']");
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toMatch(/\+1\s*−1/);
    await review.getByText(/^1 file \+1/).waitFor();

    // Monaco (its own lazy chunk) shows the new line; a click on its line number opens a comment form.
    // (The pane may be narrow, so Monaco may show the diff inline: the new side's own numbers are used.)
    const modified = page.locator("hive-diff-review .editor.modified");
    await modified.locator(".view-line", { hasText: "return a - b;" }).waitFor({ timeout: 30_000 });
    // A narrow pane makes Monaco switch to its inline layout once it has measured itself; a click that
    // lands on the layout being replaced is lost, so it is made again (as a person would).
    const form = review.getByLabel("Comment on line 2");
    for (let attempt = 1; ; attempt++) {
      await modified.locator(".margin-view-overlays .line-numbers", { hasText: /^2$/ }).click();
      const opened = await form
        .waitFor({ timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (opened || attempt === 3) break;
    }
    await form.fill("This subtracts; it should add.");
    await review.locator("hive-comment-form button", { hasText: /^\s*Comment\s*$/ }).click();
    await review
      .locator(".comments hive-review-comment", { hasText: "This subtracts; it should add." })
      .waitFor();

    await page.reload();
    const again = page.locator("hive-diff-review .comments hive-review-comment", {
      hasText: "This subtracts; it should add.",
    });
    await again.waitFor({ timeout: 30_000 });
    await again.getByText("line 2").waitFor(); // the comment's own text lives in its shadow root

    const before = world.model.requests.filter((q) => !q.auxiliary).length;
    world.model.script({ text: ["Fixing it."] });
    await page
      .locator("hive-diff-review")
      .getByRole("button", { name: /Send review to agent \(1\)/ })
      .click();
    await page
      .locator("hive-diff-review")
      .getByText("Sent 1 comment to the agent.")
      .waitFor({ timeout: 30_000 });
    await world.model.waitForRequests(before + 1);
    const prompt = requestText(world.model.requests.filter((q) => !q.auxiliary)[before]!);
    expect(prompt).toContain("This subtracts; it should add.");
    expect(prompt).toContain("src/calc.js, line 2");
    expect(prompt).toContain("return a - b;");
    await again.getByText("sent to agent").waitFor();
  }, 240_000);

  it("says an added empty file is empty, instead of two blank panes", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-review-empty-fail.png" });
    });
    writeFileSync(join(cell.worktreePath!, "empty.txt"), "");
    const review = page.locator("hive-diff-review");
    const row = review.locator("hive-diff-file-list [data-path='empty.txt']");
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await review.locator(".file-head .path", { hasText: "empty.txt" }).waitFor();
    await review.locator(".notice", { hasText: "Empty file added" }).waitFor({ timeout: 30_000 });
    rmSync(join(cell.worktreePath!, "empty.txt"));
    await row.waitFor({ state: "detached", timeout: 60_000 });
  }, 120_000);

  it("keeps a 5,000-file diff to a screenful of rows, and moves between files by keyboard", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-review-many-fail.png" });
    });
    for (let d = 0; d < 50; d++) {
      mkdirSync(join(cell.worktreePath!, "many", `d${String(d).padStart(2, "0")}`), { recursive: true });
      for (let f = 0; f < 100; f++) {
        const name = join(
          cell.worktreePath!,
          "many",
          `d${String(d).padStart(2, "0")}`,
          `f${String(f).padStart(3, "0")}.txt`,
        );
        writeFileSync(name, `file ${d}/${f}\n`);
      }
    }
    const review = page.locator("hive-diff-review");
    const list = review.locator("hive-diff-file-list");
    await review.getByText("5001 files").waitFor({ timeout: 60_000 });
    // Virtualized: a screenful of rows (plus a margin) exists, not 5,001.
    expect(await list.locator(".row").count()).toBeLessThan(150);
    await list.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await list.locator("[data-path='src/calc.js']").waitFor();
    expect(await list.locator(".row").count()).toBeLessThan(150);

    // j / k move the selection; the file's name shows above the editor.
    await list.locator("[data-path='many/d49/f099.txt']").click();
    await page.keyboard.press("j");
    await review.locator(".file-head .path", { hasText: "src/calc.js" }).waitFor();
    await page.keyboard.press("k");
    await review.locator(".file-head .path", { hasText: "many/d49/f099.txt" }).waitFor();
  }, 180_000);

  it("styles the diff editor of the next cell opened too, not only the first", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-review-second-fail.png" });
    });
    // This page has shown a diff in Monaco already (the tests above); now another cell's pane shows one.
    const created = await world.createCell({ name: "Second" });
    const second = await world.hive.waitForCell(created.id, (c) => c?.status === "ready");
    writeFileSync(join(second!.worktreePath!, "src", "calc.js"), "export const second = 2;\n");
    await cellLink(page, "Second").click();
    const review = page.locator("hive-diff-review");
    await review.locator("hive-diff-file-list [data-path='src/calc.js']").click({ timeout: 60_000 });
    const modified = review.locator(".editor.modified");
    await modified
      .locator(".view-line", { hasText: "export const second = 2;" })
      .waitFor({ timeout: 30_000 });
    // Monaco's own stylesheet hides its input textarea out of the way; without it the textarea shows.
    expect(
      await review
        .locator("textarea.ime-text-area")
        .first()
        .evaluate((t) => getComputedStyle(t).position),
    ).toBe("absolute");
  }, 120_000);
});
