import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { SgrState } from "../../shared/sgr-state.ts";
import { seededRandom } from "../helpers/seeded-random.ts";

const { Terminal } = xtermHeadless;

interface Attrs {
  fg: number;
  bg: number;
  extended: { underlineStyle: number; underlineColor: number };
}
type Xterm = InstanceType<typeof Terminal>;

function internals(term: Xterm): { parse(d: string): unknown; _curAttrData: Attrs } {
  const input = (term as unknown as { _core?: { _inputHandler?: ReturnType<typeof internals> } })._core
    ?._inputHandler;
  if (!input?._curAttrData) throw new Error("xterm's internals changed: this test needs a look");
  return input;
}

const CM_MASK = 0x3000000;
const CM_RGB = 0x3000000;
/** A color as it shows: its mode, and the bits that mode reads (P16 and P256 read the low 8). */
function shown(color: number): string {
  const mode = color & CM_MASK;
  return `${mode >> 24}:${mode === 0 ? 0 : mode === CM_RGB ? color & 0xffffff : color & 0xff}`;
}

/** The attributes the next character gets, as far as anything shows or keeps them. */
function attrs(term: Xterm): string {
  const a = internals(term)._curAttrData;
  return [
    `fg ${shown(a.fg)} flags ${(a.fg >>> 26).toString(2)}`,
    `bg ${shown(a.bg)} flags ${(a.bg >>> 26).toString(2)}`,
    `underline ${a.extended.underlineStyle} color ${shown(a.extended.underlineColor)}`,
  ].join(", ");
}

/** SGR parameters as programs write them, and as they should not: colors in every form, cut short or out of range. */
function sgrParams(r: (n: number) => number): string {
  const pick = <T>(xs: T[]) => xs[r(xs.length)]!;
  const byte = () => pick([0, 1, 7, 128, 255, 256, 300, r(256)]);
  const one = (): string => {
    switch (r(6)) {
      case 0:
        return String(pick([0, 1, 2, 3, 4, 5, 7, 8, 9, 21, 22, 23, 24, 25, 27, 28, 29, 39, 49, 53, 55, 59]));
      case 1:
        return String(pick([30 + r(8), 40 + r(8), 90 + r(8), 100 + r(8)]));
      case 2:
        // Ignored by xterm: they must change nothing.
        return pick(["", "6", "10", "26", "50", "60", "73", "108", "200", "0000031"]);
      case 3: {
        const target = pick([38, 48, 58]);
        return pick([
          `${target};5;${byte()}`,
          `${target};2;${byte()};${byte()};${byte()}`,
          `${target}`,
          `${target};5`,
          `${target};2;${byte()}`,
          `${target};2;${byte()};${byte()}`,
          `${target};${pick([0, 1, 3, 4, 6])};${byte()}`,
        ]);
      }
      case 4:
        return `4:${pick(["", "0", "1", "2", "3", "4", "5", "6", "9"])}`;
      default:
        return String(r(110));
    }
  };
  return Array.from({ length: 1 + r(5) }, one).join(";");
}

describe("the colors a run of SGR sequences leaves in force", () => {
  it("are what xterm has after every sequence, from any attributes before them, in a few parameters", () => {
    const full = new Terminal({ cols: 80, rows: 5, allowProposedApi: true });
    const reduced = new Terminal({ cols: 80, rows: 5, allowProposedApi: true });
    const r = seededRandom(7);
    let followed = 0;
    for (let run = 0; run < 800; run++) {
      // Both start from the same attributes, set by sequences this does not see.
      const before = Array.from({ length: r(4) }, () => `\x1b[${sgrParams(r)}m`).join("");
      internals(full).parse(`\x1b[0m${before}`);
      const state = new SgrState();
      for (let n = 0; n < 1 + r(40); n++) {
        const params = sgrParams(r);
        // Refused (a color and a sub-parameter in one sequence): a WaitingOutput parses such output instead.
        if (!state.apply(params)) continue;
        internals(full).parse(`\x1b[${params}m`);
        followed++;
        internals(reduced).parse(`\x1b[0m${before}${state.toString()}`);
        expect(attrs(reduced), `after ${before} and then ${JSON.stringify(params)}`).toBe(attrs(full));
        expect(state.toString().length).toBeLessThan(80);
      }
    }
    expect(followed).toBeGreaterThan(5000);
  });

  it("write nothing when no sequence changed anything, and a full reset when one reset everything", () => {
    const state = new SgrState();
    expect(state.toString()).toBe("");
    state.apply("6;10");
    expect(state.toString()).toBe("");
    state.apply("1;31");
    state.apply("39;22");
    expect(state.toString()).toBe("\x1b[22;39m");
    state.apply("");
    expect(state.toString()).toBe("\x1b[0m");
  });

  it("refuses what it does not follow exactly, and is unchanged by it", () => {
    const state = new SgrState();
    state.apply("32");
    for (const params of [
      "38:2::1:2:3",
      "38:5:9",
      "1:2",
      "4:3:1",
      "1234567890",
      Array(33).fill("1").join(";"),
    ]) {
      expect(state.apply(params), params).toBe(false);
      expect(state.toString()).toBe("\x1b[32m");
    }
  });
});
