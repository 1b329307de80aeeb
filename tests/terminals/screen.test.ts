import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { Screen } from "../../server/terminals/host/screen.ts";
import { ScreenFeed } from "../../server/terminals/host/screen-feed.ts";

type Term = InstanceType<typeof xtermHeadless.Terminal>;
const write = (t: Term, data: string) => new Promise<void>((r) => t.write(data, r));

/** Every row as text plus, per cell, the attributes a person can see. */
function rows(t: Term): string[] {
  const b = t.buffer.active;
  const cell = b.getNullCell();
  const out: string[] = [];
  for (let r = 0; r < b.length; r++) {
    const line = b.getLine(r)!;
    let row = line.isWrapped ? "↪" : "";
    for (let x = 0; x < t.cols; x++) {
      line.getCell(x, cell);
      const blank = cell.getChars() === "" || cell.getChars() === " ";
      row += blank && cell.getBgColorMode() === 0 ? " " : cell.getChars();
      if (!blank || cell.getBgColorMode() !== 0) {
        row += `[${cell.getFgColorMode()}:${cell.getFgColor()}/${cell.getBgColorMode()}:${cell.getBgColor()}${cell.isBold() ? "b" : ""}${cell.isItalic() ? "i" : ""}${cell.isUnderline() ? "u" : ""}]`;
      }
    }
    out.push(row.trimEnd());
  }
  while (out.length > 0 && out.at(-1) === "") out.pop();
  return out;
}

describe("compact scrollback", () => {
  it("replays colored, wide and wrapped lines from the compact history exactly as a plain xterm shows them", async () => {
    const screen = new Screen({ cols: 40, rows: 5, scrollbackLines: 2000 });
    const plain = new xtermHeadless.Terminal({ cols: 40, rows: 5, scrollback: 5000, allowProposedApi: true });
    let text = "";
    for (let i = 0; i < 600; i++) {
      text += `\x1b[3${i % 8};4${(i + 3) % 8}m${i}\x1b[0m \x1b[1;38;5;${i % 256}mbold\x1b[22;3;48;2;1;2;${i % 256}mital\x1b[0m 漢字 😀 ${i % 5 === 0 ? "x".repeat(70) : "end"}\r\n`;
    }
    text += "prompt$ ";
    await screen.write(text);
    await write(plain, text);
    const replayed = new xtermHeadless.Terminal({
      cols: 40,
      rows: 5,
      scrollback: 5000,
      allowProposedApi: true,
    });
    await write(replayed, screen.serialize());
    expect(rows(replayed)).toEqual(rows(plain));
    await write(replayed, "typed");
    await write(plain, "typed");
    expect(rows(replayed).at(-1)).toBe(rows(plain).at(-1));
  });

  it("keeps the configured number of lines, and the newest of them", async () => {
    const screen = new Screen({ cols: 80, rows: 24, scrollbackLines: 1000 });
    let text = "";
    for (let i = 1; i <= 5000; i++) text += `${i}\r\n`;
    await screen.write(text);
    const replayed = new xtermHeadless.Terminal({
      cols: 80,
      rows: 24,
      scrollback: 10_000,
      allowProposedApi: true,
    });
    await write(replayed, screen.serialize());
    const b = replayed.buffer.active;
    const lines: string[] = [];
    for (let r = 0; r < b.length; r++) {
      const l = b.getLine(r)!.translateToString(true);
      if (/^\d+$/.test(l)) lines.push(l);
    }
    expect(lines.at(-1)).toBe("5000");
    expect(lines.length).toBeGreaterThanOrEqual(1000);
    // The limit, plus the screen, plus the newest rows not yet moved into the compact history.
    expect(lines.length).toBeLessThanOrEqual(1000 + 24 + 100);
    expect(lines.map(Number).every((n, i, a) => i === 0 || n === a[i - 1]! + 1)).toBe(true);
  });

  it("keeps history in order across a resize", async () => {
    const screen = new Screen({ cols: 100, rows: 20, scrollbackLines: 10_000 });
    let text = "";
    for (let i = 1; i <= 3000; i++) text += `${i} ${"w".repeat(i % 90)}\r\n`;
    await screen.write(text);
    screen.resize(60, 30);
    await screen.write("after\r\n");
    screen.resize(120, 10);
    screen.resize(70, 40);
    const replayed = new xtermHeadless.Terminal({
      cols: 60,
      rows: 30,
      scrollback: 20_000,
      allowProposedApi: true,
    });
    await write(replayed, screen.serialize());
    const logical: string[] = [];
    const b = replayed.buffer.active;
    for (let r = 0; r < b.length; r++) {
      const l = b.getLine(r)!;
      if (l.isWrapped) logical[logical.length - 1] += l.translateToString(true);
      else logical.push(l.translateToString(true));
    }
    const numbers = logical.filter((l) => /^\d+( |$)/.test(l)).map((l) => Number(l.split(" ")[0]));
    expect(numbers.length).toBe(3000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(logical).toContain("after");
  });
});

describe("a screen behind a flood", () => {
  it("skips the part of a flood that cannot show and ends exactly where parsing everything ends", async () => {
    const opts = { cols: 80, rows: 24, scrollbackLines: 1000 };
    const fed = new Screen(opts);
    const plain = new Screen(opts);
    const parsed: number[] = [];
    const feed = new ScreenFeed(fed, (n) => parsed.push(n));
    const enc = new TextEncoder();
    const chunks: Uint8Array[] = [enc.encode("prompt$ cat log\r\n\x1b[1;31mred bold left on ")];
    for (let c = 0; c < 40; c++) {
      let text = "";
      for (let i = 0; i < 1000; i++) {
        const n = c * 1000 + i;
        text += `${n} \x1b[3${n % 8}mcolored\x1b[0m plain \x1b[4${n % 8};1mbg\x1b[22m and a tab\there ${"z".repeat(n % 50)}\r\n`;
      }
      chunks.push(enc.encode(text));
    }
    // The flood ends in a colour left on and a full-screen program's cursor moves.
    chunks.push(enc.encode("\x1b[35mstill magenta\r\n\x1b[5;10Hmoved\x1b[2Aup\x1b[0m"));
    // The output arrives faster than it is parsed: it all waits in the feed.
    for (const c of chunks) feed.write(c);
    for (const c of chunks) await plain.write(c);
    await feed.idle();
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(parsed.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...parsed)).toBeGreaterThan(1024 * 1024);
    const render = async (s: Screen) => {
      const t = new xtermHeadless.Terminal({ cols: 80, rows: 24, scrollback: 5000, allowProposedApi: true });
      await write(t, s.serialize());
      return rows(t);
    };
    // The plain screen may keep some lines past the limit (history is dropped in whole chunks); every
    // row the skipping one shows, at least the last 1,000 lines and the screen, is the same, colors included.
    const shown = await render(fed);
    expect(shown.length).toBeGreaterThanOrEqual(1000 + 24);
    expect(shown).toEqual((await render(plain)).slice(-shown.length));
  });
});
