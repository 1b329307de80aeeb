import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { type BrowserApp, openApp } from "../browser/browser.ts";
import { focusPath } from "../browser/ui.ts";
import type { TestHive } from "../helpers/server.ts";

/**
 * Review comments inside the diff, in a real Chromium against a real Hive: written under the line whose
 * number was clicked, resolved and edited right there, still there after a reload, moving with their line
 * when the file changes above it, and listed as outdated once the line is gone.
 */
describe("inline review comments", () => {
  let app: BrowserApp;
  let hive: TestHive;
  let page: Page;
  let cell: Cell;

  const modified = () => page.locator("hive-diff-review .editor.modified");
  const inline = () => modified().locator("hive-review-comment");
  const write = (text: string) => writeFileSync(join(cell.worktreePath!, "src", "app.js"), text);
  /** Monaco keeps its widgets out of the accessibility tree, so what is inside them is found by text. */
  const button = (within: Locator, name: string) =>
    within.locator("button", { hasText: new RegExp(`^\\s*${name}\\s*$`) });
  /** The comment sits right under the line it belongs to. */
  const underLine = async (zone: Locator, line: number) => {
    const number = modified().locator(".margin-view-overlays .line-numbers", {
      hasText: new RegExp(`^${line}$`),
    });
    const [z, n] = await Promise.all([zone.boundingBox(), number.boundingBox()]);
    return z !== null && n !== null && Math.abs(z.y - (n.y + n.height)) < 6;
  };

  beforeAll(async () => {
    app = await openApp({
      files: {
        "README.md": "# r\n",
        "src/app.js": "const a = 1;\nconst b = 2;\nconst c = 3;\nconst d = 4;\n",
      },
      viewport: { width: 1600, height: 900 },
    });
    ({ hive, page } = app);
    cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "inline" });
    write("const a = 1;\nconst b = 2;\nconst c = 30;\nconst d = 4;\n");
    await page.goto(`${hive.url}/cells/${cell.id}`);
  }, 120_000);

  afterAll(() => app?.close());

  it("writes, resolves and edits a comment under its line, and finds it there after a reload", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-inline-fail.png" });
    });
    await modified().locator(".view-line", { hasText: "const c = 30;" }).waitFor({ timeout: 60_000 });
    // Wait for the computed diff: its decorations (and, inline, the removed line above) move line 3
    // down, and a click on where it was before lands on the removed line.
    await modified().locator(".line-insert").first().waitFor({ timeout: 60_000 });
    await modified().locator(".margin-view-overlays .line-numbers", { hasText: /^3$/ }).click();
    const form = modified().locator("hive-comment-form");
    await form.getByLabel("Comment on line 3").fill("Why 30?");
    await button(form, "Comment").click();
    await form.waitFor({ state: "detached" });
    await inline().filter({ hasText: "Why 30?" }).waitFor();
    const zone = inline().first(); // the only comment (its text changes below)
    expect(await underLine(zone, 3)).toBe(true);

    await button(zone, "Resolve").click();
    await zone.getByText("resolved", { exact: true }).waitFor();
    await button(zone, "Unresolve").click();
    await button(zone, "Resolve").waitFor();

    await button(zone, "Edit").click();
    await zone.getByLabel("Edit comment on line 3").fill("Why 30 and not 3?");
    await button(zone, "Save").click();
    await inline().filter({ hasText: "Why 30 and not 3?" }).waitFor();
    // The list below the editor shows the same comment.
    await page
      .locator("hive-diff-review .comments hive-review-comment", { hasText: "Why 30 and not 3?" })
      .waitFor();

    await page.reload();
    const again = inline().filter({ hasText: "Why 30 and not 3?" });
    await again.waitFor({ timeout: 60_000 });
    await expect.poll(() => underLine(again, 3)).toBe(true);
  }, 180_000);

  it("follows its line when lines are added above it, and is listed as outdated once the line is gone", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-inline-move-fail.png" });
    });
    write("// one\n// two\nconst a = 1;\nconst b = 2;\nconst c = 30;\nconst d = 4;\n");
    const zone = inline().filter({ hasText: "Why 30 and not 3?" });
    await modified().locator(".view-line", { hasText: "// two" }).waitFor({ timeout: 30_000 });
    await expect
      .poll(async () => (await zone.locator("[data-line]").getAttribute("data-line")) ?? "", {
        timeout: 30_000,
      })
      .toBe("5");
    await expect.poll(() => underLine(zone, 5), { timeout: 10_000 }).toBe(true);

    write("// one\n// two\nconst a = 1;\nconst b = 2;\nconst d = 4;\n");
    await zone.waitFor({ state: "detached", timeout: 30_000 });
    const listed = page.locator("hive-diff-review .comments hive-review-comment", {
      hasText: "Why 30 and not 3?",
    });
    await listed.getByText("outdated").waitFor({ timeout: 30_000 });
  }, 120_000);

  it("keeps a comment being written across looking at another file and a reload, until it is cancelled", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h4-inline-draft-fail.png" });
    });
    writeFileSync(join(cell.worktreePath!, "src", "other.js"), "export const other = 1;\n");
    const list = page.locator("hive-diff-review hive-diff-file-list");
    await list.locator("[data-path='src/other.js']").waitFor({ timeout: 30_000 });
    await modified().locator(".margin-view-overlays .line-numbers", { hasText: /^1$/ }).click();
    const form = modified().locator("hive-comment-form");
    await form.getByLabel("Comment on line 1").fill("Half a thought");

    await list.locator("[data-path='src/other.js']").click();
    await modified()
      .locator(".view-line", { hasText: "export const other = 1;" })
      .waitFor({ timeout: 30_000 });
    await form.waitFor({ state: "detached" });
    await list.locator("[data-path='src/app.js']").click();
    await expect
      .poll(() => form.getByLabel("Comment on line 1").inputValue(), { timeout: 30_000 })
      .toBe("Half a thought");

    // After a reload the file with the comment being written is the one shown, with it.
    await list.locator("[data-path='src/other.js']").click();
    await page.reload();
    await expect
      .poll(() => form.getByLabel("Comment on line 1").inputValue(), { timeout: 60_000 })
      .toBe("Half a thought");
    // Brought back, it does not take the keyboard from wherever the person is.
    expect(await focusPath(page)).not.toContain("HIVE-COMMENT-FORM");
    await button(form, "Cancel").click();
    await form.waitFor({ state: "detached" });
    await page.reload();
    await modified().locator(".view-line").first().waitFor({ timeout: 60_000 });
    expect(await form.count()).toBe(0);
  }, 120_000);
});
