import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { launchBrowser, signedInPage, startUrlOf } from "./browser.ts";
import { cellLink, clickInTerminal, focusPath, terminalText, typeInTerminal } from "./ui.ts";

/** The screens around the main flow: forms and their errors, timings, shortcuts, layout memory, narrow widths. */
describe("the web app's screens", () => {
  let repo: TempRepo;
  let broken: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let page: Page;
  const cells: Cell[] = [];

  let longCell: Cell | undefined;
  const createReadyCell = async (name: string) => {
    const r = await hive.api<Cell>("POST", "/api/cells", {
      workspaceId: hive.workspaceId,
      templateId: "basic",
      name,
    });
    return (await hive.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
  };

  beforeAll(async () => {
    repo = makeRepo();
    broken = makeRepo();
    broken.writeConfig('{\n  "templates": [\n    { "id": "x", "label": "X", "setup": "npm ci" }\n  ]\n}\n');
    broken.commit("broken config");
    hive = await startHive(repo.path);
    for (const name of ["alpha", "beta"]) cells.push(await createReadyCell(name));
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(hive));
    await cellLink(page, "beta").waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
    broken?.cleanup();
  });

  it("adds a workspace by path and says what is wrong with a bad one", async () => {
    const form = page.locator("hive-cell-list form");
    await form.getByLabel("Repository path").fill("/nonexistent/repo");
    await form.getByRole("button", { name: "Add" }).click();
    const error = page.locator("hive-cell-list p.error");
    await error.waitFor();
    expect(await error.textContent()).toContain("/nonexistent/repo");

    await form.getByLabel("Repository path").fill(broken.path);
    await form.getByRole("button", { name: "Add" }).click();
    await page.locator("hive-cell-list section h2", { hasText: broken.path.split("/").pop()! }).waitFor();
    await error.waitFor({ state: "detached" });

    // The same repository again: nothing changes, and the sidebar says why.
    await form.getByLabel("Repository path").fill(`${repo.path}/`);
    await form.getByRole("button", { name: "Add" }).click();
    const note = page.locator("hive-cell-list p.note");
    await note.waitFor();
    expect(await note.textContent()).toBe(`${repo.path.split("/").pop()} is already in Hive (${repo.path}).`);
    expect(await page.locator("hive-cell-list section").count()).toBe(2);
  });

  it("shows config errors with key path and line instead of the template picker", async () => {
    const section = page.locator("hive-cell-list section", { hasText: broken.path.split("/").pop()! });
    await section.getByRole("button", { name: "+ Cell" }).click();
    const problem = page.locator("hive-cell-create [data-config-error]").first();
    await problem.waitFor();
    const text = (await problem.textContent())!.replace(/\s+/g, " ");
    expect(text).toContain("templates[0].setup");
    expect(text).toMatch(/line 3/);
    expect(await page.locator("hive-cell-create label.tpl").count()).toBe(0);

    // Saving a fixed file brings the picker, with no reload or "Check again".
    broken.writeConfig('{ "templates": [{ "id": "x", "label": "Fixed template", "setup": ["true"] }] }');
    await page
      .locator("hive-cell-create label.tpl", { hasText: "Fixed template" })
      .waitFor({ timeout: 10_000 });
  });

  it("removes a workspace that has no cells, in every tab, and offers no removal while cells remain", async () => {
    const sectionOf = (p: Page, path: string) =>
      p.locator("hive-cell-list section", { has: p.locator(`h2[title="${path}"]`) });
    const remove = (p: Page, path: string) =>
      sectionOf(p, path).getByRole("button", { name: "Remove workspace" });
    expect(await remove(page, repo.path).count()).toBe(0);
    const other = await signedInPage(browser, startUrlOf(hive));
    try {
      await sectionOf(other, broken.path).waitFor();
      // The page shows the new-cell form of the workspace it removes: it goes home.
      expect(page.url()).toContain("/new");
      const before = broken.git("status", "--porcelain") + broken.git("rev-parse", "HEAD");
      await remove(page, broken.path).click();
      await sectionOf(page, broken.path).waitFor({ state: "detached" });
      await sectionOf(other, broken.path).waitFor({ state: "detached" });
      await expect.poll(() => new URL(page.url()).pathname).toBe("/");
      expect(broken.git("status", "--porcelain") + broken.git("rev-parse", "HEAD")).toBe(before);
      expect((await hive.api<{ id: string }[]>("GET", "/api/workspaces")).body).toHaveLength(1);
    } finally {
      await other.context().close();
    }
  });

  it("moves between cells, opens the new-cell form and a terminal from the keyboard, and lists the shortcuts on ?", async () => {
    await cellLink(page, "alpha").click();
    await page.locator("hive-cell-view h1", { hasText: "alpha" }).waitFor();
    await page.keyboard.press("Alt+ArrowDown");
    await page.locator("hive-cell-view h1", { hasText: "beta" }).waitFor();
    await page.keyboard.press("Alt+ArrowUp");
    await page.locator("hive-cell-view h1", { hasText: "alpha" }).waitFor();

    await page.keyboard.press("Alt+t");
    await page.locator("hive-terminal-pane[active]").waitFor();
    await page.keyboard.press("Alt+2");
    await expect.poll(() => focusPath(page)).toContain("HIVE-AGENT-CHAT");
    await page.keyboard.press("Alt+3");
    await expect.poll(() => focusPath(page)).toContain("HIVE-DIFF-REVIEW");
    await page.keyboard.press("Alt+1");
    await expect.poll(() => focusPath(page)).toContain("HIVE-TERMINAL-PANE");
    await typeInTerminal(page, "echo focused-$((1+1))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("focused-2");

    await page.locator("hive-cell-view h1").click();
    await page.keyboard.press("?");
    const overlay = page.locator("hive-shortcuts [role='dialog']");
    await overlay.waitFor();
    for (const label of ["New cell", "Next cell", "Previous cell", "New terminal", "Focus pane"]) {
      expect(await overlay.textContent()).toContain(label);
    }
    await page.keyboard.press("Escape");
    await overlay.waitFor({ state: "detached" });

    await page.keyboard.press("Alt+n");
    await page.locator("hive-cell-create").getByLabel("Name").waitFor();
  });

  it("remembers pane sizes and tab names per cell across a reload", async () => {
    await cellLink(page, "alpha").click();
    const gutter = page.locator("hive-cell-view hive-split .gutter").first();
    await gutter.waitFor();
    const before = await gutter.boundingBox();
    await gutter.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowLeft");
    const moved = (await gutter.boundingBox())!.x;
    expect(moved).toBeLessThan(before!.x - 50);

    const tab = page.locator("hive-terminal-tabs .tab").first();
    await tab.dblclick();
    await page.locator("hive-terminal-tabs .tab input").fill("server logs");
    await page.keyboard.press("Enter");
    await page.locator("hive-terminal-tabs .tab", { hasText: "server logs" }).waitFor();

    await page.reload();
    await page.locator("hive-terminal-tabs .tab", { hasText: "server logs" }).waitFor();
    expect(Math.abs((await gutter.boundingBox())!.x - moved)).toBeLessThan(3);
  });

  it("opens several shells as tabs and closes one for good", async () => {
    const tabs = page.locator("hive-terminal-tabs .tab");
    await tabs.first().waitFor();
    const n = await tabs.count();
    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    await expect.poll(() => tabs.count()).toBe(n + 1);
    await page
      .locator("hive-terminal-tabs .tab[aria-selected='true']")
      .getByRole("button", { name: /^Close/ })
      .click();
    await expect.poll(() => tabs.count()).toBe(n);
    await page.reload();
    await tabs.first().waitFor();
    expect(await tabs.count()).toBe(n);
    await page.locator("hive-terminal-pane[active]").waitFor();
  });

  it("asks before closing a shell that runs a program, and closes an idle one at once", async () => {
    const tabs = page.locator("hive-terminal-tabs .tab");
    const n = await tabs.count();
    /** Answers the next confirm() with `answer`; resolves with what it asked (or null if nothing was asked). */
    const confirmWith = (answer: boolean) =>
      page.evaluate((answer) => {
        const w = window as unknown as { asked: string | null; confirm(m: string): boolean };
        w.asked = null;
        w.confirm = (m) => {
          w.asked = m;
          return answer;
        };
      }, answer);
    const asked = () => page.evaluate(() => (window as unknown as { asked: string | null }).asked);
    const closeFront = () =>
      page
        .locator("hive-terminal-tabs .tab[aria-selected='true']")
        .getByRole("button", { name: /^Close/ })
        .click();

    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    await expect.poll(() => tabs.count()).toBe(n + 1);
    // Output after the echo means the shell has moved on to start sleep.
    await typeInTerminal(page, "echo start-$((2+2)); sleep 600");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^start-4$/m);
    await confirmWith(false);
    await closeFront();
    await expect.poll(asked).toMatch(/is running sleep; closing it ends sleep\. Close it anyway\?/);
    await new Promise((r) => setTimeout(r, 500));
    expect(await tabs.count()).toBe(n + 1);
    await confirmWith(true);
    await closeFront();
    await expect.poll(() => tabs.count()).toBe(n);

    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    await expect.poll(() => tabs.count()).toBe(n + 1);
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/[$#] *$/m);
    await confirmWith(false);
    await closeFront();
    await expect.poll(() => tabs.count()).toBe(n);
    expect(await asked()).toBeNull();
  });

  it("copies with Ctrl+Shift+C, pastes with Ctrl+Shift+V, and opens links printed in a terminal", async () => {
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: hive.url });
    const pane = page.locator("hive-terminal-pane[active]");
    await typeInTerminal(page, "echo copy-$((3*3)) http://127.0.0.1:9/hive-link");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("copy-9");
    await pane.evaluate((el) => (el as unknown as { term: { selectAll(): void } }).term.selectAll());
    await page.keyboard.press("Control+Shift+C");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("copy-9");
    // As on a page served over plain http from another machine, where there is no Clipboard API.
    await page.evaluate(() => navigator.clipboard.writeText("stale"));
    const hideClipboardApi = (hide: boolean) =>
      page.evaluate((hide) => {
        const w = window as { clipboardApi?: PropertyDescriptor };
        w.clipboardApi ??= Object.getOwnPropertyDescriptor(Navigator.prototype, "clipboard");
        const hidden = { get: () => undefined, configurable: true };
        Object.defineProperty(Navigator.prototype, "clipboard", hide ? hidden : w.clipboardApi!);
      }, hide);
    await hideClipboardApi(true);
    await pane.evaluate((el) => (el as unknown as { term: { selectAll(): void } }).term.selectAll());
    await page.keyboard.press("Control+Shift+C");
    await hideClipboardApi(false);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("copy-9");

    await page.evaluate(() => navigator.clipboard.writeText("echo pasted-$((5+5))"));
    await pane.click();
    await page.keyboard.press("Control+Shift+V");
    await page.keyboard.press("Enter");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("pasted-10");

    // Hover the printed URL where xterm drew it, then click: the link opens in a new tab.
    const before = page.url();
    const opened = page.context().waitForEvent("request", (r) => r.url().includes("/hive-link"));
    await clickInTerminal(page, "http://127.0.0.1:9/hive-link", "copy-9");
    expect((await opened).isNavigationRequest()).toBe(true);
    // …in a new tab: this one stays on the app.
    expect(page.url()).toBe(before);
    for (const p of page.context().pages()) if (p !== page) await p.close();
  });

  it("follows the OS between light and dark, terminals included", async () => {
    const pane = page.locator("hive-terminal-pane[active]");
    await pane.waitFor();
    const colors = () =>
      pane.evaluate((el) => ({
        page: getComputedStyle(document.documentElement).getPropertyValue("--hive-bg").trim(),
        term: (el as unknown as { term: { options: { theme: { background: string } } } }).term.options.theme
          .background,
      }));
    await page.emulateMedia({ colorScheme: "light" });
    const light = await colors();
    await page.emulateMedia({ colorScheme: "dark" });
    await expect.poll(colors).not.toEqual(light);
    const dark = await colors();
    expect(dark.page).not.toBe(light.page);
    expect(dark.term).not.toBe(light.term);
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("uses the DOM renderer on a software GPU", async () => {
    const pane = page.locator("hive-terminal-pane[active]");
    await pane.waitFor();
    expect(await pane.locator(".xterm-rows").count()).toBe(1);
    expect(await pane.locator("canvas").count()).toBe(0);
  });

  it("lists every cell's steps slowest first, deleted cells included, filterable by cell and step", async () => {
    await hive.api("DELETE", `/api/cells/${cells[1]!.id}`);
    await hive.waitForCell(cells[1]!.id, (c) => c === undefined);
    await page.locator("hive-cell-list").getByRole("link", { name: "Timings" }).click();
    const rows = page.locator("hive-timings tbody tr");
    await rows.first().waitFor();
    const durations = await rows.evaluateAll((trs) =>
      trs.map((tr) => tr.querySelector("td.num")!.textContent!.trim()),
    );
    const ms = durations.map((d) => (d.endsWith(" ms") ? Number.parseFloat(d) : Number.parseFloat(d) * 1000));
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    expect(
      await page.locator(`hive-timings tbody tr[data-cell-id='${cells[1]!.id}']`).count(),
    ).toBeGreaterThan(0);

    await page.locator("hive-timings select[name='cellId']").selectOption(cells[1]!.id);
    await expect
      .poll(() => rows.evaluateAll((trs) => new Set(trs.map((t) => t.getAttribute("data-cell-id"))).size))
      .toBe(1);
    expect(await rows.first().getAttribute("data-cell-id")).toBe(cells[1]!.id);
    expect(new URL(page.url()).searchParams.get("cell")).toBe(cells[1]!.id);

    await page.locator("hive-timings select[name='step']").selectOption("create_worktree");
    await expect
      .poll(() => rows.evaluateAll((trs) => [...new Set(trs.map((t) => t.getAttribute("data-step")))]))
      .toEqual(["create_worktree"]);
  });

  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 768, height: 1024 },
  ]) {
    it(`fits a ${viewport.width}x${viewport.height} screen without sideways scrolling`, async () => {
      const p = await signedInPage(browser, startUrlOf(hive), viewport);
      await p.goto(`${hive.url}/cells/${cells[0]!.id}`);
      await p.locator("hive-terminal-pane[active]").waitFor();
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const box = await p.locator("hive-terminal-pane[active]").boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(box!.height).toBeGreaterThan(150);

      // A long cell name is cut: the buttons keep the name's line, and the branch keeps its share.
      longCell ??= await createReadyCell("a long cell name that says in full what the agent is asked to do");
      await p.goto(`${hive.url}/cells/${longCell.id}`);
      const header = p.locator("hive-cell-view header");
      await header.locator("h1", { hasText: "a long cell name" }).waitFor();
      const name = (await header.locator("h1").boundingBox())!;
      const del = (await header.getByRole("button", { name: "Delete" }).boundingBox())!;
      expect(Math.abs(del.y + del.height / 2 - (name.y + name.height / 2))).toBeLessThan(4);
      const branch = (await header.locator(".meta .branch").boundingBox())!;
      expect(branch.width).toBeGreaterThan(120);
      await p.context().close();
    });
  }

  it("archives a cell and restores it", async () => {
    await page.goto(`${hive.url}/cells/${cells[0]!.id}`);
    await page.locator("hive-cell-view").getByRole("button", { name: "Archive" }).click();
    await page.getByRole("heading", { name: "alpha is archived" }).waitFor({ timeout: 30_000 });
    await cellLink(page, "alpha").locator("[data-status='archived']").waitFor();
    await page.getByRole("button", { name: "Restore" }).click();
    await page.locator("hive-cell-view h1", { hasText: "alpha" }).waitFor({ timeout: 30_000 });
    await cellLink(page, "alpha").locator("[data-status='ready']").waitFor();
  });

  it("a cell view that could not be fetched (Hive restarting) shows once it can be, without a reload", async () => {
    let refuse = true;
    const other = await signedInPage(browser, startUrlOf(hive), undefined, (context) =>
      context.route("**/assets/cell-view-*.js", (route) => (refuse ? route.abort() : route.continue())),
    );
    try {
      await other.goto(`${hive.url}/cells/${cells[0]!.id}`);
      await other.locator("hive-app [role='status']", { hasText: "Fetching the cell view failed" }).waitFor();
      refuse = false;
      await other.locator("hive-cell-view h1", { hasText: "alpha" }).waitFor({ timeout: 20_000 });
    } finally {
      await other.context().close();
    }
  });
});
