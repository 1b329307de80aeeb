import type { Socket } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { launchBrowser, signedInPage, startUrlOf } from "./browser.ts";
import { cellLink, createCellInUi, terminalText, typeInTerminal } from "./ui.ts";

/**
 * The app end to end against the real server, a real repository, real shells and a real Chromium:
 * a cell is made from the UI, fails, is fixed and retried, gets a terminal that survives a reload
 * and a dropped socket, and is deleted.
 */
describe("the web app, end to end", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let page: Page;
  /** Upgraded sockets, so the test can cut them from the server side. */
  const sockets: Socket[] = [];

  beforeAll(async () => {
    repo = makeRepo();
    repo.writeConfig({
      templates: [
        {
          id: "web",
          label: "Web app",
          description: "Installs and builds before the cell opens.",
          setup: ["seq 1 100; echo installing; sleep 1; echo installed; sleep 2"],
        },
        {
          id: "flaky",
          label: "Flaky",
          description: "Setup that fails until fixed.",
          setup: ["seq 1 80; echo boom >&2; exit 3"],
        },
      ],
    });
    repo.commit("config");
    hive = await startHive(repo.path);
    hive.hive.server.on("upgrade", (_req, socket: Socket) => sockets.push(socket));
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(hive));
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
  });

  it("creates a cell from a template with a setup command and watches the checklist reach ready", async () => {
    await createCellInUi(page, "Web app", "first cell");
    // The checklist comes first, shows the setup command running with its output, and a reload lands on it again.
    const setup = page.locator("hive-provisioning-checklist li[data-step='run_setup:0']");
    await page
      .locator("hive-provisioning-checklist li[data-step='run_setup:0'][data-state='running']")
      .waitFor();
    const live = page.locator("hive-provisioning-checklist .live pre");
    await live.filter({ hasText: "installing" }).waitFor();
    // Scrolled up to read, the output stays where the person put it as lines arrive.
    await live.evaluate((e) => {
      e.scrollTop = 0;
    });
    await live.filter({ hasText: "installed" }).waitFor();
    expect(await live.evaluate((e) => e.scrollTop)).toBe(0);
    await page.reload();
    await setup.waitFor();
    // Then the cell view opens by itself.
    await page.locator("hive-cell-view").waitFor({ timeout: 30_000 });
    await cellLink(page, "first cell").locator("[data-status='ready']").waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/cells\//);
  });

  it("shows a failing setup's error, and after the config is fixed Retry makes it ready", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h6-fail.png" });
    });
    await createCellInUi(page, "Flaky", "flaky cell");
    const failure = page.locator("hive-provisioning-checklist .failure");
    await failure.waitFor({ timeout: 30_000 });
    expect(await failure.textContent()).toContain("boom");
    // More output than the box holds: it opens on its end, where the error is.
    const pre = failure.locator("pre");
    await expect
      .poll(() =>
        pre.evaluate((e) => [
          e.scrollHeight > e.clientHeight,
          e.scrollTop + e.clientHeight >= e.scrollHeight - 2,
        ]),
      )
      .toEqual([true, true]);
    await page
      .locator("hive-provisioning-checklist li[data-step='run_setup:0'][data-state='failed']")
      .waitFor();

    repo.writeConfig({
      templates: [
        { id: "web", label: "Web app", setup: ["true"] },
        { id: "flaky", label: "Flaky", setup: ["echo fixed"] },
      ],
    });
    // Retry is offered once nothing runs any more (the agent may still be warming up beside setup).
    const retry = failure.getByRole("button", { name: "Retry" });
    await expect.poll(() => retry.isEnabled(), { timeout: 60_000 }).toBe(true);
    await retry.click();
    await page.locator("hive-cell-view").waitFor({ timeout: 30_000 });
    await cellLink(page, "flaky cell").locator("[data-status='ready']").waitFor();
  });

  it("runs a shell whose output comes back after a reload and after the server drops the socket", async () => {
    await cellLink(page, "first cell").click();
    await page.locator("hive-cell-view").getByRole("button", { name: "Open a terminal" }).click();
    await page.locator("hive-terminal-pane[active]").waitFor();
    await typeInTerminal(page, "echo hello-$RANDOM");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/hello-\d+/);
    const seen = (await terminalText(page)).match(/hello-\d+/)![0];

    await page.reload();
    await page.locator("hive-terminal-pane[active]").waitFor();
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain(seen);

    for (const s of sockets.splice(0)) s.destroy();
    await page.locator("hive-connection-banner [role='alert']").waitFor();
    // It reconnects by itself and the live shell answers again.
    await page
      .locator("hive-connection-banner [role='alert']")
      .waitFor({ state: "detached", timeout: 20_000 });
    await typeInTerminal(page, "echo back-$((40+2))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("back-42");
    expect(await terminalText(page)).toContain(seen);
  });

  it("deletes a cell and it leaves the sidebar, its unsent drafts with it", async () => {
    await cellLink(page, "flaky cell").click();
    await page.locator("hive-cell-view").waitFor();
    const cellId = new URL(page.url()).pathname.split("/").pop()!;
    const drafts = [`hive.draft.chat:${cellId}`, `hive.draft.comment:${cellId}`];
    await page.evaluate((keys) => {
      for (const k of keys) localStorage.setItem(k, "unsent");
    }, drafts);
    await page.locator("hive-cell-view").getByRole("button", { name: "Delete" }).click();
    await cellLink(page, "flaky cell").waitFor({ state: "detached", timeout: 30_000 });
    // Home says where the cell went, as it does when another window deletes it.
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "was deleted" }).textContent())
      .toMatch(/The cell\s+flaky cell\s+was deleted\./);
    expect(await cellLink(page, "first cell").count()).toBe(1);
    expect(await page.evaluate((keys) => keys.map((k) => localStorage.getItem(k)), drafts)).toEqual([
      null,
      null,
    ]);
  });
});
