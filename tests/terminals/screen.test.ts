import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { Screen } from "../../server/terminals/host/screen.ts";
import { ScreenFeed } from "../../server/terminals/host/screen-feed.ts";
import { rows } from "../helpers/xterm-rows.ts";

type Term = InstanceType<typeof xtermHeadless.Terminal>;
const write = (t: Term, data: string) => new Promise<void>((r) => t.write(data, r));

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

  it("replays a background color that line feeds spread, after a history longer or shorter than the screen", async () => {
    for (const rowCount of [10, 200]) {
      let text = "";
      for (let i = 0; i < 300; i++) text += `line ${i} ${i % 40 === 0 ? "w".repeat(90) : ""}\r\n`;
      // Line feeds with a background color in force fill each new line with it; the reset comes before
      // the last one, whose line stays uncolored.
      text += "\x1b[1m\x1b[48;5;17m";
      for (let i = 0; i < 30; i++) text += `blue ${i}\r\n`;
      text += "still blue\x1b[0m\r\ndone-42\r\nprompt# ";
      const screen = new Screen({ cols: 40, rows: rowCount, scrollbackLines: 1000 });
      const plain = new xtermHeadless.Terminal({
        cols: 40,
        rows: rowCount,
        scrollback: 1000,
        allowProposedApi: true,
      });
      await screen.write(text);
      await write(plain, text);
      const replayed = new xtermHeadless.Terminal({
        cols: 40,
        rows: rowCount,
        scrollback: 1000,
        allowProposedApi: true,
      });
      await write(replayed, screen.serialize());
      expect(rows(replayed), `${rowCount} rows`).toEqual(rows(plain));
    }
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
  const opts = { cols: 80, rows: 24, scrollbackLines: 1000 };
  const enc = new TextEncoder();
  const render = async (s: Screen, cols = 80, height = 24) => {
    const t = new xtermHeadless.Terminal({ cols, rows: height, scrollback: 5000, allowProposedApi: true });
    await write(t, s.serialize());
    return rows(t);
  };
  /** A screen fed through a ScreenFeed, counting the bytes it had to parse. */
  function fedScreen() {
    const screen = new Screen(opts);
    const counted = { parsed: 0, acknowledged: 0 };
    const write = screen.write.bind(screen);
    screen.write = (data) => {
      for (const d of Array.isArray(data) ? data : [data]) counted.parsed += d.length;
      return write(data);
    };
    const feed = new ScreenFeed(screen, (n) => {
      counted.acknowledged += n;
    });
    return { screen, feed, counted };
  }
  /**
   * Either screen may keep some lines past the limit (history is dropped in whole chunks): every row both
   * show, at least the last 1,000 lines and the screen, must be the same, colors included.
   */
  async function expectSame(fed: Screen, plain: Screen, cols = 80, height = 24) {
    const [a, b] = [await render(fed, cols, height), await render(plain, cols, height)];
    const both = Math.min(a.length, b.length);
    expect(both).toBeGreaterThanOrEqual(1000 + 24);
    expect(a.slice(-both)).toEqual(b.slice(-both));
  }
  /**
   * Feeds a flood of 40,000 lines to a screen behind a feed and to one that parses everything: the first
   * must parse a tenth of it at most (what can show is 1,000 lines of history and the screen, and up to
   * 1,000 more wait to be dropped) and end the same.
   */
  async function expectMostSkipped(chunks: Uint8Array[]) {
    const { screen: fed, feed, counted } = fedScreen();
    const plain = new Screen(opts);
    for (const c of chunks) feed.write(c);
    for (const c of chunks) await plain.write(c);
    await feed.idle();
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(counted.acknowledged).toBe(total);
    expect(counted.parsed).toBeLessThan(total / 10);
    await expectSame(fed, plain);
  }
  const lines = (from: number, n: number, line: (i: number) => string) => {
    let text = "";
    for (let i = from; i < from + n; i++) text += line(i);
    return text;
  };
  const colored = (n: number) =>
    `${n} \x1b[3${n % 8}mcolored\x1b[0m plain \x1b[4${n % 8};1mbg\x1b[22m 漢字 😀 and a tab\there\x1b[K ${"z".repeat(n % 50)}\r\n`;

  it("parses only the lines of a flood that can still show, and ends exactly where parsing everything ends", async () => {
    const chunks: Uint8Array[] = [enc.encode("prompt$ cat log\r\n\x1b[1;31mred bold left on ")];
    for (let c = 0; c < 40; c++) chunks.push(enc.encode(lines(c * 1000, 1000, colored)));
    // The flood ends in a colour left on and a full-screen program's cursor moves.
    chunks.push(enc.encode("\x1b[35mstill magenta\r\n\x1b[5;10Hmoved\x1b[2Aup\x1b[0m"));
    await expectMostSkipped(chunks);
  });

  it("skips a flood whose colors are never all reset at once (chalk, picocolors), and ends exact", async () => {
    // Each color ends with its own reset, as test runners print them; now and then one is left on.
    const testLine = (i: number) =>
      `\x1b[32m✓\x1b[39m \x1b[2mtests/t${i}.test.ts\x1b[22m \x1b[33m(${i % 40} tests)\x1b[39m \x1b[90m${i % 700}ms\x1b[39m\r\n` +
      (i % 997 === 0
        ? `\x1b[1m\x1b[4:3m\x1b[38;5;${i % 256}m\x1b[48;2;1;2;${i % 256}m\x1b[58;5;9mleft on `
        : "") +
      (i % 1999 === 0 ? "\x1b[22m\x1b[24m\x1b[39;49;59m" : "");
    const chunks: Uint8Array[] = [enc.encode("prompt$ npm test\r\n")];
    for (let c = 0; c < 40; c++) chunks.push(enc.encode(lines(c * 1000, 1000, testLine)));
    await expectMostSkipped(chunks);
  });

  it("stays exact however the output is split and whenever it is parsed", async () => {
    // Sections that can and cannot be skipped; each ends at a checkpoint where both screens are compared.
    const sections = [
      `prompt$ make\r\n${lines(0, 3000, colored)}`,
      // A progress bar (CR without LF), then a full-screen program's cursor moves amid lines.
      `${lines(0, 50, (i) => `\r[${"#".repeat(i % 40)}] ${i}%`)}\r\n\x1b[5;10Hmoved\x1b[2Aup\r\n${lines(3000, 6000, colored)}`,
      // Plain lines on the alternate screen (no history there) and in a scroll region must not clear history.
      `\x1b[?1049h${lines(0, 2500, colored)}\x1b[?1049l${lines(10000, 6000, colored)}`,
      `\x1b[3;20r${lines(0, 2500, colored)}\x1b[r${lines(20000, 6000, colored)}`,
      // Colours that are never reset pile up; a C1 CSI (U+009B) in UTF-8 is not plain text.
      `${lines(30000, 2500, (i) => `\x1b[3${i % 8}m${i} never reset\r\n`)}\u009b1mC1${lines(40000, 6000, colored)}prompt$ `,
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 2; run++) {
      const { screen: fed, feed, counted } = fedScreen();
      const plain = new Screen(opts);
      let total = 0;
      let size: [number, number] = [80, 24];
      for (const [i, section] of sections.entries()) {
        if (i === 3) {
          // A taller screen, while lines are being skipped: more of them can show.
          size = [100, 40];
          feed.resize(...size);
          plain.resize(...size);
        }
        const bytes = enc.encode(section);
        total += bytes.length;
        for (let at = 0; at < bytes.length; ) {
          const n = 1 + Math.floor(random() * (run === 0 ? 48 : 8192));
          feed.write(bytes.slice(at, at + n));
          // A replay or resize can come at any moment, even in the middle of a sequence or a character.
          if (random() < (run === 0 ? 0.01 : 0.001)) await feed.idle();
          // Output arrives a message at a time, with parsing in between.
          else if (run > 0) await new Promise((r) => setTimeout(r, 0));
          at += n;
        }
        await plain.write(bytes);
        await feed.idle();
        await expectSame(fed, plain, ...size);
      }
      expect(counted.acknowledged).toBe(total);
      // Tiny pieces parsed every few hundred bytes never pile up enough lines to skip any; in large
      // pieces, a good part of every long run of plain lines is skipped.
      if (run > 0) expect(counted.parsed).toBeLessThan(0.8 * total);
    }
  });
});
