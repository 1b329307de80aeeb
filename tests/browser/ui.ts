import type { Locator, Page } from "playwright-core";

/** How the browser tests drive the app: the way a person would, through what is on screen. */

export function cellLink(page: Page, name: string): Locator {
  return page.locator("hive-cell-list a[data-cell-id]", { hasText: name });
}

/** Opens the new-cell form of the first workspace, picks a template by its label, names the cell and creates it. */
export async function createCellInUi(page: Page, templateLabel: string, name: string): Promise<void> {
  await page.locator("hive-cell-list").getByRole("button", { name: "+ Cell" }).first().click();
  const form = page.locator("hive-cell-create");
  await form.locator("label.tpl", { hasText: templateLabel }).click();
  await form.getByLabel("Name").fill(name);
  await form.getByRole("button", { name: "Create cell" }).click();
  await page.locator("hive-provisioning-checklist, hive-cell-view").first().waitFor();
}

/**
 * Types a command line into the terminal in front once its shell has printed something (a prompt):
 * keys typed before a shell starts reading can be lost, for a person as for a test.
 */
export async function typeInTerminal(page: Page, command: string): Promise<void> {
  await page.locator("hive-terminal-pane[active]").waitFor();
  await page.waitForFunction(
    (pane) => ((pane as unknown as { screenText(): string } | null)?.screenText() ?? "").trim().length > 0,
    await page.locator("hive-terminal-pane[active]").elementHandle(),
    { timeout: 30_000 },
  );
  await page.locator("hive-terminal-pane[active]").click();
  await page.keyboard.type(command);
  await page.keyboard.press("Enter");
}

/** Every line of the terminal in front (scrollback included), as xterm holds it. */
export function terminalText(page: Page): Promise<string> {
  return page
    .locator("hive-terminal-pane[active]")
    .evaluate((el) => (el as HTMLElement & { screenText(): string }).screenText());
}

/** The elements that hold the keyboard, outermost first, through shadow roots (tag names). */
export function focusPath(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const path: string[] = [];
    for (let el = document.activeElement; el; el = el.shadowRoot?.activeElement ?? null)
      path.push(el.tagName);
    return path;
  });
}

/**
 * Clicks text of a terminal (the one in front unless `pane` says) where xterm drew it: the last line that
 * starts with `lineStart` and holds `text`, hovered first as a person's pointer would. How a printed link
 * is opened.
 */
export async function clickInTerminal(
  page: Page,
  text: string,
  lineStart = "",
  pane = page.locator("hive-terminal-pane[active]").first(),
): Promise<void> {
  const at = await pane.evaluate(
    (el, { text, lineStart }) => {
      type Buf = {
        viewportY: number;
        length: number;
        getLine(i: number): { translateToString(t?: boolean): string } | undefined;
      };
      const term = (
        el as unknown as {
          term: { rows: number; cols: number; buffer: { active: Buf }; scrollToBottom(): void };
        }
      ).term;
      term.scrollToBottom();
      const screen = el.shadowRoot!.querySelector(".xterm-screen")!.getBoundingClientRect();
      const b = term.buffer.active;
      for (let y = b.length - 1; y >= b.viewportY; y--) {
        const line = b.getLine(y)?.translateToString(true) ?? "";
        const col = line.indexOf(text);
        if (col >= 0 && line.startsWith(lineStart)) {
          const w = screen.width / term.cols;
          const h = screen.height / term.rows;
          return { x: screen.left + (col + 3.5) * w, y: screen.top + (y - b.viewportY + 0.5) * h };
        }
      }
      return undefined;
    },
    { text, lineStart },
  );
  if (!at) throw new Error(`"${text}" is not on the terminal's screen`);
  await page.mouse.move(at.x, at.y);
  await page.mouse.move(at.x + 2, at.y);
  await page.mouse.click(at.x + 2, at.y);
}
