/**
 * Lets a screen that has fallen behind a flood skip parsing output that cannot show any more. When the
 * waiting output begins with plain lines (text, CR LF, tabs, colors) and more of them follow than the
 * screen and its scrollback can hold, everything before the last `keepLines` of them would scroll out
 * of the retained history anyway. Parsing only their net effect keeps the screen exact: the colors in
 * force where the skip ends, and a line feed per screen row so what was on screen scrolls away as it
 * would have. Anything else (cursor movement, modes, other escapes) ends the skippable stretch.
 */

const ESC = 0x1b;
const CR = 0x0d;
const LF = 0x0a;

export interface FloodSkip {
  /** Bytes at the start of the data that need not be parsed. */
  skip: number;
  /** SGR sequences in force after them (from the last full reset on). */
  sgr: string;
}

export function floodSkip(data: Uint8Array, keepLines: number): FloodSkip | undefined {
  const lineEnds: number[] = [];
  const sgrs: { start: number; end: number; reset: boolean }[] = [];
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    if (b === ESC) {
      if (data[i + 1] !== 0x5b) break;
      let j = i + 2;
      while (
        j < data.length &&
        ((data[j]! >= 0x30 && data[j]! <= 0x39) || data[j] === 0x3b || data[j] === 0x3a)
      )
        j++;
      if (j >= data.length || data[j] !== 0x6d) break;
      // A full reset: `ESC[m`, `ESC[0m` or `ESC[0;...m`.
      const reset = j === i + 2 || (data[i + 2] === 0x30 && (j === i + 3 || data[i + 3] === 0x3b));
      sgrs.push({ start: i, end: j + 1, reset });
      i = j + 1;
      continue;
    }
    if (b < 0x20 && b !== CR && b !== LF && b !== 0x09 && b !== 0x08 && b !== 0x07) break;
    if (b === LF && i > 0 && data[i - 1] === CR) lineEnds.push(i + 1);
    i++;
  }
  const skipLines = lineEnds.length - keepLines;
  if (skipLines <= 0) return undefined;
  const skip = lineEnds[skipLines - 1]!;
  const before = sgrs.filter((s) => s.start < skip);
  let from = 0;
  for (let k = 0; k < before.length; k++) if (before[k]!.reset) from = k;
  let sgr = "";
  for (const s of before.slice(from)) sgr += String.fromCharCode(...data.subarray(s.start, s.end));
  return { skip, sgr };
}
