import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { joinTaken, WaitingOutput } from "../../shared/waiting-output.ts";
import { seededRandom } from "../helpers/seeded-random.ts";
import { rows } from "../helpers/xterm-rows.ts";

const enc = new TextEncoder();

/** Where a parser fed `bytes` from the start would be at rest: outside CSI sequences and UTF-8 characters. */
function restPoints(bytes: Uint8Array): boolean[] {
  const rest: boolean[] = [];
  let inCsi = false;
  let afterEsc = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    rest.push(!inCsi && !afterEsc && (b & 0xc0) !== 0x80);
    if (afterEsc) {
      afterEsc = false;
      inCsi = true;
    } else if (b === 0x1b) afterEsc = true;
    else if (inCsi && b >= 0x40) inCsi = false;
  }
  rest.push(!inCsi && !afterEsc);
  return rest;
}

describe("taking a flood's waiting output piece by piece", () => {
  it("cuts plain output only where the parser is at rest, loses and reorders nothing, and keeps to the size asked", () => {
    let text = "";
    for (let i = 0; i < 3000; i++) {
      text +=
        i % 500 === 0
          ? // A line many pieces long, of wide characters and colours.
            `${Array.from({ length: 3000 }, (_, j) => `\x1b[3${j % 8}m漢字😀${j} `).join("")}\r\n`
          : `${i} \x1b[3${i % 8}mcolored\x1b[0m 漢字 tab\there\x1b[K\r\n`;
    }
    const input = enc.encode(text);
    const rest = restPoints(input);
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + Math.floor((seed / 2 ** 31) * n);
    };
    const waiting = new WaitingOutput(Number.POSITIVE_INFINITY);
    const out: Uint8Array[] = [];
    let pushed = 0;
    let taken = 0;
    let pieces = 0;
    let unscanned = 0;
    while (taken < input.length) {
      if (pushed < input.length && (waiting.size === 0 || waiting.size < 16 || random(3) === 1)) {
        const n = random(8192);
        waiting.push(input.subarray(pushed, pushed + n));
        pushed = Math.min(input.length, pushed + n);
        continue;
      }
      // Small pieces too, though never smaller than a sequence or a character.
      const max = random(4) === 1 ? 7 + random(16) : 7 + random(32 * 1024);
      const scanned = waiting.skippable;
      const piece = waiting.takePiece(max);
      // Empty only when all that waits is the start of a sequence or a character.
      if (piece.bytes === 0) expect(rest[pushed]).toBe(false);
      expect(piece.bytes).toBeLessThanOrEqual(max);
      expect(piece.skipped).toBeUndefined();
      taken += piece.bytes;
      pieces++;
      if (scanned && taken < pushed) {
        // Cut anywhere else, the rest could no longer be scanned, nor its lines dropped.
        expect(rest[taken], `cut at byte ${taken}`).toBe(true);
        expect(waiting.skippable).toBe(true);
      }
      // Cut anywhere (all that waited was the start of a sequence or a character, or it was not scanned):
      // what comes next is scanned once the parser, as a terminal would say, is at rest.
      if (!waiting.skippable) {
        unscanned++;
        if (rest[taken]) waiting.markClean(piece.generation);
      }
      out.push(...piece.chunks);
    }
    expect(Buffer.concat(out).equals(Buffer.from(input))).toBe(true);
    expect(unscanned).toBeLessThan(pieces / 20);
  });
});

describe("dropping a flood's lines", () => {
  it("carries the colors they leave in force across many drops, however the colors were set and reset", async () => {
    const random = seededRandom(5);
    const pick = (xs: string[]) => xs[random(xs.length)]!;
    // Colors set and ended one by one (never all at once), as test runners print them; now and then an
    // attribute is set or unset and stays so for thousands of lines, across many drops.
    const rare = () =>
      pick(["1", "2", "22", "3", "23", "4", "4:3", "24", "7", "27", "53", "55", "49", "59", "0"]) +
      `m\x1b[${pick([`38;5;${random(256)}`, `48;2;${random(256)};9;9`, "58;5;2", "9", "29"])}`;
    let text = "";
    for (let i = 0; i < 30_000; i++) {
      text += `${i} \x1b[3${random(8)}mtext\x1b[39m ${random(2500) === 0 ? `\x1b[${rare()}m` : ""}more\r\n`;
    }
    const input = enc.encode(text);
    const keepLines = 300;
    const waiting = new WaitingOutput(keepLines);
    let dropped = 0;
    for (let at = 0; at < input.length; ) {
      const n = 1 + random(4096);
      dropped += waiting.push(input.subarray(at, at + n));
      at += n;
    }
    // Dropped many times over before anything was taken.
    expect(dropped).toBeGreaterThan(input.length * 0.9);
    const terminal = () =>
      new xtermHeadless.Terminal({ cols: 60, rows: 10, scrollback: keepLines, allowProposedApi: true });
    const full = terminal();
    const skipping = terminal();
    const write = (t: ReturnType<typeof terminal>, d: Uint8Array) => new Promise<void>((r) => t.write(d, r));
    await write(full, input);
    await write(skipping, joinTaken(waiting.take()));
    expect(rows(skipping)).toEqual(rows(full));
  });
});
