import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { clickInTerminal, createCellInUi, terminalText, typeInTerminal } from "../browser/ui.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { serviceCommand } from "./harness.ts";

/** A template with a web service, from the UI of a real Chromium against the real server. */
describe("services in the web app", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    repo = makeRepo();
    repo.writeConfig({
      templates: [
        {
          id: "site",
          label: "Site",
          // No "--name" flag here: the template picker shows the command, and the form helper finds "Name" by label.
          services: { web: { run: serviceCommand("--delay 300 --print-url"), readyPattern: "listening on" } },
        },
        {
          id: "flaky",
          label: "Flaky",
          services: {
            web: {
              run: serviceCommand("--crash-after 200"),
              readyPattern: "listening on",
              restart: "always",
            },
          },
        },
      ],
    });
    repo.commit("config");
    hive = await startHive(repo.path);
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(hive));
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
  });

  it("shows ensure_services:web on the checklist, the service ready in the strip, and its link opens its page", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/services-browser-fail.png" });
    });
    await createCellInUi(page, "Site", "with web");
    // Generous waits: the machine running the tests is shared and often loaded.
    await page
      .locator("hive-provisioning-checklist li[data-step='ensure_services:web']")
      .waitFor({ timeout: 60_000 });
    await page.locator("hive-cell-view").waitFor({ timeout: 60_000 });
    const web = page.locator("hive-services-strip [data-service='web']");
    await web.locator("[data-status='ready']").waitFor({ timeout: 60_000 });

    const link = web.locator("a");
    expect(await link.getAttribute("href")).toMatch(/^\/cells\/[a-z0-9]+\/proxy\/web\/$/);
    const [opened] = await Promise.all([page.context().waitForEvent("page"), link.click()]);
    await opened.waitForLoadState();
    expect(await opened.locator("h1").textContent()).toBe("hello from service");
    await opened.close();
    await page.screenshot({ path: "/tmp/services-strip.png" });
  });

  it("opens a localhost link to the service, printed in a terminal, through Hive", async () => {
    // The page may be on another machine (an SSH tunnel to localhost included), where the port is not the service's.
    const web = page.locator("hive-services-strip [data-service='web']");
    const port = (await web.locator("a").textContent())!.replace(":", "");
    await page.locator("hive-cell-view").getByRole("button", { name: "Open a terminal" }).click();
    await typeInTerminal(page, `echo served-at http://localhost:${port}/`);
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^served-at http/m);
    const [opened] = await Promise.all([
      page.context().waitForEvent("page"),
      clickInTerminal(page, `http://localhost:${port}/`, "served-at"),
    ]);
    await opened.waitForLoadState();
    expect(new URL(opened.url()).pathname).toMatch(/^\/cells\/[a-z0-9]+\/proxy\/web\//);
    expect(await opened.locator("h1").textContent()).toBe("hello from service");
    await opened.close();
  });

  it("stops and starts the service from the strip and shows its log as a terminal", async () => {
    const web = page.locator("hive-services-strip [data-service='web']");
    await web.getByRole("button", { name: "Stop", exact: true }).click();
    await web.locator("[data-status='stopped']").waitFor({ timeout: 30_000 });
    await web.getByRole("button", { name: "Start", exact: true }).click();
    await web.locator("[data-status='ready']").waitFor({ timeout: 30_000 });

    const strip = page.locator("hive-services-strip");
    await strip.getByRole("button", { name: "Stop all", exact: true }).click();
    await web.locator("[data-status='stopped']").waitFor({ timeout: 30_000 });
    await strip.getByRole("button", { name: "Start all", exact: true }).click();
    await web.locator("[data-status='ready']").waitFor({ timeout: 30_000 });

    await web.getByRole("button", { name: "Log", exact: true }).click();
    const log = page.locator("hive-services-strip hive-terminal-pane[data-log='web']");
    await log.waitFor();
    const text = () => log.evaluate((el) => (el as HTMLElement & { screenText(): string }).screenText());
    await expect.poll(text, { timeout: 15_000 }).toContain("stopping (SIGTERM)");
    const starts = async () => (await text()).match(/service: listening on/g)?.length ?? 0;
    // Three starts so far, replayed from the server's screen, each once.
    await expect.poll(starts, { timeout: 15_000 }).toBe(3);
    // A fourth arrives live while the log is open.
    await web.getByRole("button", { name: "Restart", exact: true }).click();
    await expect.poll(starts, { timeout: 30_000 }).toBe(4);
    // The cell's CPU and memory, sampled every few seconds.
    const figures = page.locator("hive-services-strip .figures");
    await figures.waitFor({ timeout: 30_000 });
    expect(await figures.textContent()).toMatch(/CPU \d+\.\d% · \d+ MB/);
    await page.screenshot({ path: "/tmp/services-log.png" });

    // The address the service printed, clicked in its log, opens it through Hive.
    const port = (await web.locator("a").textContent())!.replace(":", "");
    const [opened] = await Promise.all([
      page.context().waitForEvent("page"),
      clickInTerminal(page, `http://localhost:${port}/`, "  Local:", log),
    ]);
    await opened.waitForLoadState();
    expect(new URL(opened.url()).pathname).toMatch(/^\/cells\/[a-z0-9]+\/proxy\/web\//);
    await opened.close();
  });

  it("'Own origin' opens the service signed in on <cell>--web.localhost", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/services-own-origin-fail.png" });
    });
    const web = page.locator("hive-services-strip [data-service='web']");
    await web.locator("[data-status='ready']").waitFor({ timeout: 30_000 });
    const cellId = /\/cells\/([a-z0-9]+)/.exec(page.url())![1]!;
    const [opened] = await Promise.all([
      page.context().waitForEvent("page"),
      web.getByRole("button", { name: "Own origin", exact: true }).click(),
    ]);
    const origin = `http://${cellId}--web.localhost:${new URL(hive.url).port}`;
    await opened.waitForURL(`${origin}/`, { timeout: 30_000 });
    expect(await opened.locator("h1").textContent()).toBe("hello from service");
    // The preview cannot reach back into Hive's tab.
    expect(await opened.evaluate(() => window.opener)).toBeNull();
    await opened.close();
  });

  it("says why a service failed, over its output's last lines, plain and scrolled to the end", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/services-failed-fail.png" });
    });
    const cell = await hive.readyCell({
      workspaceId: hive.workspaceId,
      name: "crashing",
      templateId: "flaky",
    });
    await page.goto(`${hive.url}/cells/${cell.id}`);
    const web = page.locator("hive-services-strip [data-service='web']");
    await web.locator("[data-status='error']").waitFor({ timeout: 60_000 });
    const detail = page.locator("hive-services-strip .detail[data-service='web']");
    expect(await detail.locator(".why").textContent()).toMatch(
      /^web: crash loop: exited 5 times within 60 s/,
    );
    const tail = detail.locator(".tail");
    expect(await tail.textContent()).not.toContain("\x1b");
    // The newest lines (the last exit) are in view without scrolling.
    const box = await tail.evaluate((el) => ({
      over: el.scrollHeight > el.clientHeight,
      rect: el.getBoundingClientRect(),
    }));
    expect(box.over).toBe(true);
    const lastLine = await tail.evaluate((el) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let text: Text | undefined;
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (n.textContent?.includes("[hive] exited")) text = n as Text;
      const range = document.createRange();
      range.setStart(text!, text!.data.lastIndexOf("[hive] exited"));
      range.setEnd(text!, text!.data.lastIndexOf("[hive] exited") + 1);
      return range.getBoundingClientRect().bottom;
    });
    expect(lastLine).toBeLessThanOrEqual(box.rect.bottom + 1);
    expect(lastLine).toBeGreaterThan(box.rect.top);
  });
});
