import type xtermHeadless from "@xterm/headless";

/**
 * Serializes scrollback rows of a headless xterm into text with SGR colors, for the compact history.
 * Every line that scrolls by in a flood passes through here, so it reads xterm's cell array directly
 * (3 numbers per cell: content, foreground, background) instead of going through the cell API, which
 * is several times slower. The layout is xterm.js's BufferLine (pinned @xterm/headless 6); when it is
 * not there, `undefined` tells the caller to fall back to the serialize addon.
 */

type Buffer = InstanceType<typeof xtermHeadless.Terminal>["buffer"]["normal"];
interface InternalLine {
  _data: Uint32Array;
  _combined: Record<number, string>;
}

const CODEPOINT_MASK = 0x1fffff;
const IS_COMBINED = 0x200000;
const WIDTH_SHIFT = 22;
const COLOR_MODE_MASK = 0x3000000;
const CM_P16 = 0x1000000;
const CM_P256 = 0x2000000;
const CM_RGB = 0x3000000;
/** The content word of a cell nothing was written to: no character, width 1. */
const EMPTY_CELL = 1 << WIDTH_SHIFT;
/** UTF-16 code units of the row being read (two per cell at most). */
let units = new Uint16Array(2 * 1024);

/**
 * Logical lines of rows [from, to), each ended by CRLF, colors reset at each line's end. `ends` gets
 * the offset just after each line's CRLF.
 */
export function serializeRows(
  buf: Buffer,
  from: number,
  to: number,
  cols: number,
  ends: number[],
): string | undefined {
  let out = "";
  let fg = 0;
  let bg = 0;
  for (let r = from; r < to; r++) {
    const line = buf.getLine(r);
    const internal = (line as unknown as { _line?: InternalLine } | undefined)?._line;
    if (!line || !internal?._data) return undefined;
    const data = internal._data;
    if (units.length < 2 * cols) units = new Uint16Array(2 * cols);
    const continues = r + 1 < to && buf.getLine(r + 1)?.isWrapped === true;
    let end = continues ? cols : lastVisibleCell(data, cols);
    if (end > cols) end = cols;
    // A line's last cells that were never written (erased, or filled with the background color in force
    // by a scroll) are erased again: written as spaces, they would look the same but copy as spaces.
    let erased = end;
    const tailFg = data[3 * end - 2]!;
    const tailBg = data[3 * end - 1]!;
    if (!continues && end > 0) {
      while (
        erased > 0 &&
        data[3 * erased - 3] === EMPTY_CELL &&
        data[3 * erased - 2] === tailFg &&
        data[3 * erased - 1] === tailBg
      )
        erased--;
    }
    let n = 0;
    for (let x = 0; x < erased; x++) {
      const content = data[3 * x]!;
      // The second half of a wide character has width 0: its glyph was written with the first half.
      if (((content >>> WIDTH_SHIFT) & 3) === 0) continue;
      const cf = data[3 * x + 1]!;
      const cb = data[3 * x + 2]!;
      if (cf !== fg || cb !== bg) {
        out += String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]) + sgr(cf, cb);
        n = 0;
        fg = cf;
        bg = cb;
      }
      if (content & IS_COMBINED) {
        out +=
          String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]) +
          (internal._combined[x] ?? " ");
        n = 0;
        continue;
      }
      const cp = content & CODEPOINT_MASK;
      if (cp > 0xffff) {
        units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
        units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      } else units[n++] = cp === 0 ? 32 : cp;
    }
    if (n > 0) out += String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
    if (erased < end) {
      if (tailFg !== fg || tailBg !== bg) out += sgr(tailFg, tailBg);
      fg = tailFg;
      bg = tailBg;
      out += `\x1b[${end - erased}X`;
    }
    if (!continues) {
      if (fg !== 0 || bg !== 0) out += "\x1b[0m";
      fg = bg = 0;
      out += "\r\n";
      ends.push(out.length);
    }
  }
  return out;
}

function lastVisibleCell(data: Uint32Array, cols: number): number {
  for (let x = cols - 1; x >= 0; x--) {
    const cp = data[3 * x]! & (CODEPOINT_MASK | IS_COMBINED);
    // A blank keeps its place when it shows a background or is inverted.
    if ((cp !== 0 && cp !== 32) || data[3 * x + 2]! & COLOR_MODE_MASK || data[3 * x + 1]! & 0x4000000)
      return x + 1;
  }
  return 0;
}

/** SGR sequences by foreground then background word: output reuses a handful of styles over and over. */
const sgrCache = new Map<number, Map<number, string>>();

function sgr(fg: number, bg: number): string {
  let byBg = sgrCache.get(fg);
  if (!byBg) {
    if (sgrCache.size > 4096) sgrCache.clear();
    byBg = new Map();
    sgrCache.set(fg, byBg);
  }
  let s = byBg.get(bg);
  if (s === undefined) {
    s = buildSgr(fg, bg);
    if (byBg.size < 256) byBg.set(bg, s);
  }
  return s;
}

function buildSgr(fg: number, bg: number): string {
  let p = "0";
  if (fg & 0x8000000) p += ";1";
  if (bg & 0x8000000) p += ";2";
  if (bg & 0x4000000) p += ";3";
  if (fg & 0x10000000) p += ";4";
  if (fg & 0x20000000) p += ";5";
  if (fg & 0x4000000) p += ";7";
  if (fg & 0x40000000) p += ";8";
  if (fg & 0x80000000) p += ";9";
  if (bg & 0x40000000) p += ";53";
  p += color(fg, 30, 90, 38);
  p += color(bg, 40, 100, 48);
  return `\x1b[${p}m`;
}

function color(word: number, base: number, bright: number, extended: number): string {
  const mode = word & COLOR_MODE_MASK;
  if (mode === CM_P16) {
    const n = word & 0xff;
    return `;${n < 8 ? base + n : bright + n - 8}`;
  }
  if (mode === CM_P256) return `;${extended};5;${word & 0xff}`;
  if (mode === CM_RGB) return `;${extended};2;${(word >>> 16) & 0xff};${(word >>> 8) & 0xff};${word & 0xff}`;
  return "";
}
