import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { RestTracker, xtermAtRest, xtermRestState } from "../../shared/rest-tracker.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

const { Terminal } = xtermHeadless;
const ROWS = 24;

function xterm(): InstanceType<typeof Terminal> {
  return new Terminal({ cols: 80, rows: ROWS, allowProposedApi: true, scrollback: 100 });
}

/**
 * Parses at once, as a write does once its turn comes (xterm's write buffer hands data to this same parse).
 * Awaiting each write's turn instead made these tests take half a minute.
 */
async function write(term: InstanceType<typeof Terminal>, data: Uint8Array): Promise<void> {
  const input = (term as unknown as { _core?: { _inputHandler?: { parse(d: Uint8Array): unknown } } })._core
    ?._inputHandler;
  if (!input) throw new Error("xterm's internals changed: xtermAtRest and this test need a look");
  input.parse(data);
}

/**
 * A stream of what terminals get, good and bad: text, UTF-8 (and broken UTF-8), C0 and C1 controls, colors,
 * screen switches, scroll regions, soft and full resets, and CSI, ESC, OSC, DCS and SOS/PM/APC sequences
 * with random parameters, cut short or aborted by CAN, SUB or ESC.
 */
function stream(seed: number, tokens: number): Uint8Array {
  const r = seededRandom(seed);
  const pick = <T>(xs: T[]) => xs[r(xs.length)]!;
  const out: number[] = [];
  const ascii = (s: string) => {
    for (const ch of s) out.push(ch.charCodeAt(0));
  };
  const params = () =>
    Array.from({ length: r(4) }, () =>
      r(3) === 0 ? "" : String(pick([0, 1, 2, 5, 23, 24, 25, 30, 47, 1047, 1049, r(99)])),
    ).join(pick([";", ";", ":"]));
  for (let t = 0; t < tokens; t++) {
    switch (r(18)) {
      case 0:
      case 1:
        ascii(pick(["hello ", "line\r\n", "tab\tx", "back\bx", "bell\x07", "\r\n", "wrap".repeat(30)]));
        break;
      case 2: {
        // Characters of 2, 3 and 4 bytes. None has a continuation byte of 0x80: xterm 6 mistakes one
        // kept between two writes for the end of the character (its decoder stops at a zero payload).
        const cp = pick([0xe9, 0x3a9, 0x6f22, 0x5b57, 0x1f600, 0x2603, 0xa1, 0x9f + 2]);
        out.push(...new TextEncoder().encode(String.fromCodePoint(cp)));
        break;
      }
      case 3:
        // Broken UTF-8: a lone continuation, an overlong lead, a character cut short, invalid bytes.
        out.push(
          ...pick([
            [0x85],
            [0xc0, 0xaf],
            [0xe6, 0xbc],
            [0xf0, 0x9f, 0x98],
            [0xff],
            [0xed, 0xa0, 0x81],
            [0xf8],
          ]),
        );
        break;
      case 4:
        ascii(`\x1b[${params()}m`);
        break;
      case 5:
        ascii(`\x1b[?${params()}${pick(["h", "l"])}`);
        break;
      case 6:
        ascii(`\x1b[${params()}r`);
        break;
      case 7:
        ascii(pick(["\x1b[!p", "\x1bc", "\x1b[?1049h", "\x1b[?1049l", "\x1b[?47h", "\x1b[r", "\x1b[5;20r"]));
        break;
      case 8:
        // Any CSI: prefixes, intermediates, parameters in odd places, controls inside.
        ascii(
          `\x1b[${pick(["", "?", ">", "=", "<"])}${params()}${pick(["", " ", "$", "!", "?", "\x08", "\x7f"])}${pick(["A", "H", "J", "K", "m", "p", "q", "r", "h", "l", "~", "@"])}`,
        );
        break;
      case 9:
        ascii(
          `\x1b]${pick(["0;title", "8;;http://x", "2;漢", "1337;x"])}${pick(["\x07", "\x1b\\", "\x18", "\x1a", "\x1b[m", ""])}`,
        );
        break;
      case 10:
        ascii(
          `\x1bP${pick(["", "1", "$", "?", "1;2"])}${pick(["q", "|", "$q"])}data${pick(["\x1b\\", "\x18", "", "\x07more"])}`,
        );
        break;
      case 11:
        ascii(`\x1b${pick(["X", "^", "_"])}string${pick(["\x1b\\", "\x18", "", "\x07"])}`);
        break;
      case 12:
        // C1 controls, as UTF-8: CSI, OSC, DCS, ST, SOS and others.
        out.push(0xc2, pick([0x9b, 0x9d, 0x90, 0x9c, 0x98, 0x85, 0x8d, 0x9a]));
        break;
      case 13:
        ascii(
          `\x1b${pick(["(", "#", " ", "7", "8", "M", "=", "\x7f", "\x05"])}${pick(["B", "8", "0", "", "x"])}`,
        );
        break;
      case 14:
        ascii(pick(["\x18", "\x1a", "\x1b", "\x9b", "\x7f", "\x05", "\x0e"]));
        break;
      case 15: {
        // CSI with bytes of any kind where parameters go, and a final that would switch a mode.
        ascii(`\x1b[${pick(["", "?"])}`);
        for (let i = r(6); i > 0; i--) out.push(pick([0x20 + r(32), 0x3f, 0x3c, 0x3b, 0x3a, r(32), 0x7f]));
        ascii(`${pick(["1049", "47", "1;5"])}${pick(["h", "l", "r", "p"])}`);
        break;
      }
      case 16:
        // Strings holding every C0 control.
        ascii(`\x1b${pick(["]0;", "P1|", "_", "^"])}`);
        for (let i = r(8); i > 0; i--) out.push(r(2) === 0 ? r(32) : 0x61);
        ascii(pick(["\x1b\\", "\x07", ""]));
        break;
      default:
        // Half a sequence, left open for what follows.
        ascii(pick(["\x1b[", "\x1b[1;", "\x1b]0;", "\x1bP", "\x1b[?10", "\x1b"]));
    }
  }
  return Uint8Array.from(out);
}

describe("following a terminal's output to tell where it is at rest", () => {
  it("agrees with xterm after every write, over random streams cut at random points", async () => {
    let checks = 0;
    let atRest = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const term = xterm();
      const tracker = new RestTracker(xtermRestState(term), ROWS);
      const data = stream(seed, 5000);
      const r = seededRandom(seed + 100);
      for (let at = 0; at < data.length; ) {
        const piece = data.subarray(at, at + 1 + r(r(2) === 0 ? 4 : 64));
        at += piece.length;
        await write(term, piece);
        tracker.feed(piece);
        const expected = xtermAtRest(term);
        if (tracker.atRest !== expected) {
          const before = new TextDecoder("latin1").decode(data.subarray(Math.max(0, at - 40), at));
          throw new Error(
            `seed ${seed} at ${at}: tracker says ${tracker.atRest}, xterm ${expected}, after ${JSON.stringify(before)}`,
          );
        }
        checks++;
        if (expected) atRest++;
      }
      term.dispose();
    }
    // The streams visit both answers often.
    expect(atRest).toBeGreaterThan(checks / 10);
    expect(checks - atRest).toBeGreaterThan(checks / 10);
  });

  it("agrees with xterm on every byte after every kind of sequence start", async () => {
    const term = xterm();
    const prefixes = [
      "",
      "\x1b",
      "\x1b(",
      "\x1b[",
      "\x1b[1",
      "\x1b[?",
      "\x1b[1$",
      "\x1b[1?",
      "\x1b]0;",
      "\x1b_",
    ];
    prefixes.push("\x1bP", "\x1bP1", "\x1bP$", "\x1bPq", "\x1bP1?");
    const enc = new TextEncoder();
    // Every byte below 0x80, the C1 controls (as UTF-8), and a character past them.
    const codes = [
      ...Array.from({ length: 0x80 }, (_, b) => [b]),
      ...Array.from({ length: 32 }, (_, i) => [0xc2, 0x80 + i]),
    ];
    codes.push([0xc3, 0xa9]);
    for (const prefix of prefixes) {
      for (const code of codes) {
        const tracker = new RestTracker({ parser: true, altScreen: false, scrollRegion: false }, ROWS);
        await write(term, enc.encode("\x1bc"));
        // Then what ends each kind of sequence, to tell apart states that are all not at rest.
        for (const step of [
          enc.encode(prefix),
          Uint8Array.from(code),
          enc.encode("x"),
          enc.encode("\x07"),
          enc.encode("\x1b\\"),
        ]) {
          await write(term, step);
          tracker.feed(step);
          if (tracker.atRest !== xtermAtRest(term))
            throw new Error(
              `after ${JSON.stringify(prefix)} + ${code.map((b) => b.toString(16))}: tracker says ${tracker.atRest}`,
            );
        }
      }
    }
    term.dispose();
  });

  it("takes up a stream where a snapshot left it, and knows nothing when that was mid-sequence, until a full reset", async () => {
    const term = xterm();
    await write(term, new TextEncoder().encode("\x1b[?1049hin vim\x1b[5;10r"));
    let tracker = new RestTracker(xtermRestState(term), ROWS);
    expect(tracker.atRest).toBe(false);
    for (const step of ["\x1b[r", "\x1b[?1049l"]) {
      const bytes = new TextEncoder().encode(step);
      await write(term, bytes);
      tracker.feed(bytes);
    }
    // The region was set on the alternate screen: the normal one never had one.
    expect(tracker.atRest).toBe(true);
    expect(xtermAtRest(term)).toBe(true);

    await write(term, new TextEncoder().encode("\x1b[?104"));
    tracker = new RestTracker(xtermRestState(term), ROWS);
    for (const step of ["9h", "\x1b[m", "text\r\n", "\x1b[?1049l"]) {
      const bytes = new TextEncoder().encode(step);
      await write(term, bytes);
      tracker.feed(bytes);
      expect(tracker.atRest).toBe(false);
    }
    expect(xtermAtRest(term)).toBe(true);
    const reset = new TextEncoder().encode("\x1bc");
    await write(term, reset);
    tracker.feed(reset);
    expect(tracker.atRest).toBe(true);
  });

  it("after a resize, never says at rest where xterm is not", async () => {
    const term = xterm();
    const tracker = new RestTracker(xtermRestState(term), ROWS);
    for (const [step, rows] of [
      ["\x1b[1;30r", 30],
      ["x\r\n", 20],
      ["\x1b[3;20r", 40],
      ["\x1b[1;40r", 40],
    ] as const) {
      const bytes = new TextEncoder().encode(step);
      await write(term, bytes);
      tracker.feed(bytes);
      term.resize(80, rows);
      tracker.resize(rows);
      if (tracker.atRest) expect(xtermAtRest(term)).toBe(true);
    }
    expect(tracker.atRest).toBe(true);
  });

  it("finds where output stopped inside a sequence or character comes to rest, without following it", async () => {
    // Byte for byte (the check mark is U+2713, E2 9C 93 in UTF-8).
    const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    for (const [sent, next, end] of [
      ["\x1b[3", "2mtext", 2],
      ["\x1b", "[39;49mx", 7],
      ["\xe2\x9c", "\x93 ok", 1],
      ["\x1b]0;tit", "le\x07more", 3],
      ["plain", "more", 0],
      ["\x1b[?1049h\x1b[3", "1mfull screen", 0],
      ["\x1b[3", "2", 0],
    ] as const) {
      const term = xterm();
      const tracker = new RestTracker(xtermRestState(term), ROWS);
      const [sentBytes, nextBytes] = [bytes(sent), bytes(next)];
      await write(term, sentBytes);
      tracker.feed(sentBytes);
      const before = tracker.atRest;
      expect(tracker.restPoint(nextBytes, 256), JSON.stringify(sent)).toBe(end);
      expect(tracker.atRest).toBe(before);
      if (end > 0) {
        await write(term, nextBytes.subarray(0, end));
        expect(xtermAtRest(term)).toBe(true);
      }
    }
  });
});
