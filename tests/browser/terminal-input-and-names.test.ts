import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { Terminal } from "@xterm/xterm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { launchBrowser, signedInPage, startUrlOf } from "./browser.ts";
import { terminalText, typeInTerminal } from "./ui.ts";

/**
 * Terminals across browsers and outages: a tab's name is Hive's, so every browser shows it; keys typed while
 * the socket is down reach the shell once it is back, and input too big to replay is refused visibly. A flood
 * reaches xterm whole and in order; a hidden page does not hold the shell back and is shown its screen after.
 */
describe("terminal names and input across browsers and outages", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let page: Page;
  let cell: Cell;
  /** Upgraded sockets, so the test can cut them; while `refuse` holds, new ones are cut at once. */
  const sockets: Socket[] = [];
  let refuse = false;

  const startUrl = () => startUrlOf(hive);
  const openCell = async (p: Page) => {
    await p.goto(`${hive.url}/cells/${cell.id}`);
    await p.locator("hive-cell-view").waitFor();
  };
  /** Until the terminal in front ends with a shell prompt. */
  const untilPrompt = () => expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/[$#] *$/m);
  const banner = (p: Page) => p.locator("hive-connection-banner [role='alert']");
  const notice = (p: Page) => p.locator("hive-terminal-pane[active] .notice");

  // Playwright's Chromium keeps even a minimized page visible (its flags turn backgrounding off), so the
  // page is told it is hidden as Chromium would tell it.
  const setHidden = (hidden: boolean) =>
    page.evaluate((hidden) => {
      if (hidden) Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      else Reflect.deleteProperty(document, "hidden");
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);

  /** Cuts the socket and keeps the server refusing new ones until the returned function is called. */
  const outage = async (): Promise<() => Promise<void>> => {
    refuse = true;
    for (const s of sockets.splice(0)) s.destroy();
    await banner(page).waitFor();
    return async () => {
      refuse = false;
      await banner(page).waitFor({ state: "detached", timeout: 20_000 });
    };
  };

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
    hive.hive.server.on("upgrade", (_req, socket: Socket) => {
      if (refuse) socket.destroy();
      else sockets.push(socket);
    });
    cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "typing" });
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrl());
    await openCell(page);
    await page.locator("hive-cell-view").getByRole("button", { name: "Open a terminal" }).click();
    await typeInTerminal(page, "echo ready-$((40+1))");
    await page.waitForFunction(
      (pane) => (pane as unknown as { screenText(): string }).screenText().includes("ready-41"),
      await page.locator("hive-terminal-pane[active]").elementHandle(),
      { timeout: 15_000 },
    );
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
  });

  it("a tab renamed in one browser has that name in another browser and after a reload", async () => {
    await page.locator("hive-terminal-tabs .tab").first().dblclick();
    const input = page.locator("hive-terminal-tabs .tab input");
    await input.fill("builds");
    await input.press("Enter");
    await page.locator("hive-terminal-tabs .tab .name", { hasText: "builds" }).waitFor();

    const elsewhere = await signedInPage(browser, startUrl());
    await openCell(elsewhere);
    await elsewhere.locator("hive-terminal-tabs .tab .name", { hasText: "builds" }).waitFor();
    await elsewhere.context().close();

    await page.reload();
    await page.locator("hive-terminal-tabs .tab .name", { hasText: "builds" }).waitFor();
    await page.locator("hive-terminal-pane[active]").waitFor();
  });

  it("keys typed while the connection is down reach the shell, in order, once it is back", async () => {
    const back = await outage();
    await page.locator("hive-terminal-pane[active]").click();
    await page.keyboard.type("echo queued-$((6*7))");
    await page.keyboard.press("Enter");
    await expect.poll(() => notice(page).textContent()).toMatch(/will be sent when the connection is back/);
    expect(await terminalText(page)).not.toContain("queued-42");
    await back();
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("queued-42");
    await expect.poll(() => notice(page).count()).toBe(0);
  });

  it("input too big to replay is not sent, and the pane says so", async () => {
    const back = await outage();
    await page.locator("hive-terminal-pane[active]").click();
    await page.keyboard.insertText(`echo ${"y".repeat(20_000)}`);
    await expect.poll(() => notice(page).textContent()).toMatch(/too much to replay and will not be sent/);
    await back();
    await expect.poll(() => notice(page).textContent()).toMatch(/were not sent: more than 16 KB/);
    await typeInTerminal(page, "echo after-$((3*3))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("after-9");
    expect(await terminalText(page)).not.toContain("yyyyyyyyyy");
  });

  it("a flood reaches the screen whole and in order; a hidden page takes none and is shown the finished screen", async () => {
    const tail = "-".repeat(40);
    const command = (from: number, to: number, marker: string) =>
      `seq -f '%.0f ${tail}' ${from} ${to}; echo ${marker}-$((6*7)); touch ${marker}.done`;
    /**
     * Every line in the pane's buffer before the marker (10,000 lines, some 500 KB, which the page was handed
     * in many pieces) is whole and follows the one before it, up to `to`.
     */
    const expectWhole = async (to: number, marker: string) => {
      await expect.poll(() => terminalText(page), { timeout: 60_000 }).toContain(`${marker}-42`);
      const lines = (await terminalText(page)).split("\n").map((l) => l.trim());
      const end = lines.indexOf(`${marker}-42`);
      const flooded = lines.slice(end - 8000, end);
      expect(flooded.at(-1)).toBe(`${to} ${tail}`);
      expect(flooded.filter((l, i) => l !== `${to - flooded.length + 1 + i} ${tail}`)).toEqual([]);
    };
    await typeInTerminal(page, command(1, 150_000, "shown"));
    await expectWhole(150_000, "shown");

    await setHidden(true);
    try {
      await typeInTerminal(page, command(150_001, 300_000, "hidden"));
      // The shell finishes without the page, and the page writes none of its output, even given time to.
      await expect
        .poll(() => existsSync(join(cell.worktreePath!, "hidden.done")), { timeout: 60_000 })
        .toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      const shown = (await terminalText(page)).split("\n").filter((l) => l.trim().endsWith(tail));
      expect(shown.filter((l) => Number.parseInt(l, 10) > 150_000)).toEqual([]);
    } finally {
      await setHidden(false);
    }
    await expectWhole(300_000, "hidden");
  });

  it("a page hidden while its terminal is scrolled up keeps its place and its output", async () => {
    const pane = page.locator("hive-terminal-pane[active]");
    /** The line at the top of the view (by content: lines leaving the full scrollback shift the numbers). */
    const topLine = () =>
      pane.evaluate((el) => {
        const buffer = (el as unknown as { term: Terminal }).term.buffer.active;
        return buffer.getLine(buffer.viewportY)?.translateToString(true);
      });
    await typeInTerminal(page, "seq 1 300; echo filled-$((2*3))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("filled-6");
    await pane.evaluate((el) => (el as unknown as { term: Terminal }).term.scrollLines(-50));
    const before = await topLine();
    await setHidden(true);
    try {
      // Straight to the shell: typing into xterm would scroll it back down.
      await pane.evaluate((el) =>
        (el as unknown as { session: { input(d: string): void } }).session.input("echo kept-$((5*5))\r"),
      );
      await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("kept-25");
    } finally {
      await setHidden(false);
    }
    expect(await topLine()).toBe(before);
  });

  it("a fresh terminal's scrollbar follows a flood that fills its scrollback, to the last line", async () => {
    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    const pane = page.locator("hive-terminal-pane[active]");
    await untilPrompt();
    // xterm's own per-line scrollbar updates are moved to once a frame (client/xterm-scrollbar.ts).
    expect(
      await pane.evaluate(
        (el) => (el as unknown as { scrollbarOncePerFrame: boolean }).scrollbarOncePerFrame,
      ),
    ).toBe(true);
    await typeInTerminal(page, "seq 1 3000; echo scrolled-$((3*4))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("scrolled-12");
    /** The scrollbar's slider against its track, and whether the view is at the bottom. */
    const scrollbar = () =>
      pane.evaluate((el) => {
        const term = (el as unknown as { term: Terminal }).term;
        const bar = el.shadowRoot!.querySelector<HTMLElement>(
          ".xterm-scrollable-element > .scrollbar.vertical",
        )!;
        const slider = bar.querySelector<HTMLElement>(".slider")!;
        return {
          sliderEnd: slider.offsetTop + slider.offsetHeight,
          slider: slider.offsetHeight,
          track: bar.clientHeight,
          atBottom: term.buffer.active.viewportY === term.buffer.active.baseY,
          lines: term.buffer.active.length,
        };
      });
    const atEnd = async () => {
      const s = await scrollbar();
      // A slider this small says the scrollbar knows of the whole scrollback, and at the end, of the last line.
      return s.atBottom && s.lines > 3000 && s.slider < s.track / 4 && Math.abs(s.sliderEnd - s.track) <= 1;
    };
    await expect.poll(atEnd).toBe(true);
    // Scrolled up by the wheel, then typing brings the view back down, and the slider with it.
    const box = (await pane.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -2000);
    await expect.poll(async () => (await scrollbar()).atBottom).toBe(false);
    await typeInTerminal(page, "echo back-$((2*5))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain("back-10");
    await expect.poll(atEnd).toBe(true);
  });

  it("a terminal just opened, or a tab just picked, takes the keyboard", async () => {
    const tabs = page.locator("hive-terminal-tabs .tab");
    /** Types with no click first, as a person does right after opening or picking a terminal. */
    const typeStraightIn = async (command: string, shows: string) => {
      await untilPrompt();
      await page.keyboard.type(command);
      await page.keyboard.press("Enter");
      await expect.poll(() => terminalText(page), { timeout: 15_000 }).toContain(shows);
    };
    const before = await tabs.count();
    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    await expect.poll(() => tabs.count()).toBe(before + 1);
    await typeStraightIn("echo plus-$((6*7))", "plus-42");

    await page.keyboard.press("Alt+T");
    await expect.poll(() => tabs.count()).toBe(before + 2);
    await typeStraightIn("echo alt-$((6*8))", "alt-48");

    await tabs.first().click();
    await expect.poll(() => tabs.first().getAttribute("aria-selected")).toBe("true");
    await typeStraightIn("echo first-$((2*5))", "first-10");
    expect(await terminalText(page)).not.toContain("alt-48");

    // Two opens in quick succession (the second before the first is listed) get two names.
    await page
      .locator("hive-terminal-tabs")
      .getByRole("button", { name: "New terminal" })
      .evaluate((add: HTMLElement) => {
        add.click();
        add.click();
      });
    await expect.poll(() => tabs.count()).toBe(before + 4);
    const names = await page.locator("hive-terminal-tabs .tab .name").allTextContents();
    expect(new Set(names).size).toBe(names.length);
  });

  it("the shell is the size of its pane, when opened and after the window changes size", async () => {
    await page.locator("hive-terminal-tabs").getByRole("button", { name: "New terminal" }).click();
    const pane = page.locator("hive-terminal-pane[active]");
    /** The PTY's size as `stty size` prints it, and xterm's once that has come back. */
    const sizesAgree = async (marker: string) => {
      const printed = new RegExp(`${marker}-(\\d+)x(\\d+)`);
      await typeInTerminal(page, `echo ${marker}-$(stty size | tr ' ' x)`);
      await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(printed);
      const pty = (await terminalText(page)).match(printed)!;
      const xterm = await pane.evaluate((el) => {
        const term = (el as unknown as { term: Terminal }).term;
        return `${term.rows} ${term.cols}`;
      });
      return { xterm, pty: `${pty[1]} ${pty[2]}` };
    };
    await untilPrompt();
    const opened = await sizesAgree("opened");
    expect(opened.pty).toBe(opened.xterm);
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: viewport.width - 200, height: viewport.height - 100 });
    try {
      await expect
        .poll(() => pane.evaluate((el) => (el as unknown as { term: Terminal }).term.cols))
        .not.toBe(Number(opened.xterm.split(" ")[1]));
      const resized = await sizesAgree("resized");
      expect(resized.pty).toBe(resized.xterm);
    } finally {
      await page.setViewportSize(viewport);
    }
  });

  it("finds in the terminal's output, scrollback included, and gives the keyboard back on Esc", async () => {
    const pane = page.locator("hive-terminal-pane[active]");
    await untilPrompt();
    await typeInTerminal(page, "clear; echo needle-$((40+2)); seq 1 3000; echo needle-$((50+3))");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^needle-53$/m);
    await page.keyboard.press("Control+Shift+F");
    const find = pane.locator(".find");
    await find.getByRole("textbox", { name: "Find in the terminal" }).waitFor();
    await page.keyboard.type("needle-");
    // From the newest match up: the last line first, then (Enter) the one 3,000 lines up in the scrollback.
    await expect.poll(() => find.locator(".count").textContent()).toBe("2 of 2");
    const view = () =>
      pane.evaluate((el) => {
        const term = (el as unknown as { term: Terminal }).term;
        const b = term.buffer.active;
        return { selected: term.getSelection(), scrolledUp: b.viewportY < b.baseY - 1000 };
      });
    await page.keyboard.press("Enter");
    await expect.poll(() => find.locator(".count").textContent()).toBe("1 of 2");
    expect(await view()).toMatchObject({ selected: "needle-", scrolledUp: true });
    await page.keyboard.press("Shift+Enter");
    await expect.poll(() => find.locator(".count").textContent()).toBe("2 of 2");
    await page.keyboard.type("x");
    await expect.poll(() => find.locator(".count").textContent()).toBe("No match");

    await page.keyboard.press("Escape");
    await find.waitFor({ state: "detached" });
    await page.keyboard.type("echo after-$((1+1))");
    await page.keyboard.press("Enter");
    await expect.poll(() => terminalText(page), { timeout: 15_000 }).toMatch(/^after-2$/m);
  });

  it("a shell shown in two windows takes the size of the one typed in; the other shows it at that size and says so", async () => {
    const inFront = await page.locator("hive-terminal-tabs .tab[aria-selected='true'] .name").textContent();
    const small = await signedInPage(browser, startUrl(), { width: 760, height: 640 });
    try {
      await openCell(small);
      await small.locator("hive-terminal-tabs .tab", { hasText: inFront! }).click();
      const xtermSize = (p: Page) =>
        p.locator("hive-terminal-pane[active]").evaluate((el) => {
          const term = (el as unknown as { term: Terminal }).term;
          return `${term.rows} ${term.cols}`;
        });
      const sizedBy = (p: Page) => p.locator("hive-terminal-pane[active] .sizing");
      const sizedByText = async (p: Page) => (await sizedBy(p).allTextContents()).join("");
      /** Types `stty size` in a window and answers what it printed there. */
      const sttyIn = async (p: Page, marker: string) => {
        await typeInTerminal(p, `echo ${marker}-$(stty size | tr ' ' x)`);
        const printed = new RegExp(`${marker}-(\\d+)x(\\d+)`);
        await expect.poll(() => terminalText(p), { timeout: 15_000 }).toMatch(printed);
        const [, rows, cols] = (await terminalText(p)).match(printed)!;
        return `${rows} ${cols}`;
      };

      const smallSize = await sttyIn(small, "small");
      expect(smallSize).toBe(await xtermSize(small));
      const [rows, cols] = smallSize.split(" ");
      await expect.poll(() => sizedByText(page)).toContain(`Sized by another window (${cols}×${rows})`);
      expect(await xtermSize(page)).toBe(smallSize);
      expect(await sizedBy(small).count()).toBe(0);

      // Typing in the big window gives the shell its size back; now the small one is the one told.
      await typeInTerminal(page, "seq 1 40");
      const bigSize = await sttyIn(page, "big");
      expect(bigSize).toBe(await xtermSize(page));
      expect(bigSize).not.toBe(smallSize);
      const [bigRows, bigCols] = bigSize.split(" ");
      await expect
        .poll(() => sizedByText(small))
        .toContain(`Sized by another window (${bigCols}×${bigRows})`);
      expect(await xtermSize(small)).toBe(bigSize);
      expect(await sizedBy(page).count()).toBe(0);
      // The small window keeps the cursor's line in view on a screen taller than it can show.
      const cursorInView = () =>
        small.locator("hive-terminal-pane[active]").evaluate((el) => {
          const pane = el.getBoundingClientRect();
          const cursor = el.shadowRoot!.querySelector(".xterm-cursor")?.getBoundingClientRect();
          return cursor ? cursor.top >= pane.top && cursor.bottom <= pane.bottom + 1 : "no cursor";
        });
      await expect.poll(cursorInView).toBe(true);

      // Keys typed where the keyboard already is take the size back too...
      await small.keyboard.type("echo typed-$(stty size | tr ' ' x)");
      await small.keyboard.press("Enter");
      await expect.poll(() => terminalText(small), { timeout: 15_000 }).toContain(`typed-${rows}x${cols}`);
      await sizedBy(page).waitFor();
      // ...and so does the button, for a window only looked at.
      await sttyIn(page, "again");
      await sizedBy(small).getByRole("button", { name: "Fit to this window" }).click();
      await sizedBy(page).waitFor();
      expect(await xtermSize(small)).toBe(smallSize);

      // Closing the window that sized the shell gives it back to the one still showing it.
      await small.context().close();
      await sizedBy(page).waitFor({ state: "detached" });
      expect(await xtermSize(page)).toBe(bigSize);
      expect(await sttyIn(page, "back")).toBe(bigSize);
    } finally {
      await small.context().close();
    }
  });
});
