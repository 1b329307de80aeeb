/**
 * A terminal's output waiting to be parsed into its screen, which knows how much of itself never needs
 * parsing; the PTY host's screens and the browser's terminals both keep their waiting output in one.
 * While the waiting output is made of plain lines (text, CR LF, tabs, colors, erase-in-line) and more of
 * them wait than the screen and its scrollback can hold, everything before the last `keepLines` of them
 * would scroll out of the kept history anyway: it is dropped, and only its net effect is kept (the
 * colors in force where the kept part starts; see Screen.skipFlood). Anything else (cursor movement,
 * modes, other escapes, C1 controls) ends the plain stretch until the next parse. Each byte is looked
 * at once, as it arrives, so a flood costs a scan instead of a parse.
 */

import { SgrState } from "./sgr-state.ts";

const ESC = 0x1b;
const CR = 0x0d;
const LF = 0x0a;
/** Lines that must pile up past `keepLines` before some are dropped (each drop is a small fixed cost). */
const DROP_STEP_LINES = 1000;
/**
 * Output stops being skippable once SGR sequences in lines not yet dropped outnumber the lines to keep
 * (and the drop step) this many times over: their positions are kept, and must stay bounded. Test
 * runners' lines carry up to 8 (each color set and ended on its own).
 */
const MAX_SGRS_PER_LINE = 16;
/** Dropped lines are removed from their lists once this many pile up (a splice at every drop cost more than the scan). */
const COMPACT_AFTER = 4096;

/** Where the scanner is: outside escape sequences, just after ESC, or in a CSI's parameters. */
const IN_TEXT = 0;
const AFTER_ESC = 1;
const IN_CSI = 2;

/** Output taken to be parsed (see WaitingOutput.take and takePiece). */
export interface TakenOutput {
  /** SGR sequences to write first: the colors in force where `chunks` start, when output before them was dropped. */
  skipped: string | undefined;
  chunks: Uint8Array[];
  bytes: number;
  /** What `markClean` is told once this is parsed. */
  generation: number;
}

const encoder = new TextEncoder();

/**
 * Taken output as one buffer, to write or send: the colors left in force by dropped lines, then the
 * output. A lone chunk is answered as it is; otherwise `alloc` gives the buffer (a pooled one, say).
 */
export function joinTaken(
  taken: TakenOutput,
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const parts = taken.skipped ? [encoder.encode(taken.skipped), ...taken.chunks] : taken.chunks;
  if (parts.length === 1) return parts[0]!;
  const out = alloc(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Lines of output a terminal can still show: its history, its screen, and the cursor's line. */
export function linesThatCanShow(scrollbackLines: number, rows: number): number {
  return scrollbackLines + rows + 1;
}

export class WaitingOutput {
  private chunks: Uint8Array[] = [];
  /** Bytes waiting (after drops). */
  size = 0;
  /** The colors that dropped lines left in force (see SgrState); undefined while nothing was dropped. */
  private carried: SgrState | undefined;
  /** Counts takes: a parse that ends cleanly may only vouch for the output taken after it. */
  private generation = 0;
  /**
   * Whether the waiting output starts where xterm's parser is between sequences and characters. Only
   * then does scanning mean anything; the screen says so once the output before it is parsed.
   */
  private clean: boolean;
  private plain = true;
  /** Absolute positions (bytes since the last take): of the first waiting byte, and of the scan. */
  private base = 0;
  private pos = 0;
  private prev = 0;
  private esc = IN_TEXT;
  private escStart = 0;
  private params = 0;
  private p0 = 0;
  private p1 = 0;
  /** Per waiting line end (after its LF): position, SGR sequences begun before it, last reset before it. */
  private lineEnds: number[] = [];
  private lineSgrs: number[] = [];
  private lineResets: number[] = [];
  private lineHead = 0;
  /**
   * [start, end) of each SGR sequence since the take; sequence i is at 2(i - sgrBase). Those before
   * sgrHead were dropped or taken.
   */
  private sgrs = new Positions();
  private sgrBase = 0;
  private sgrHead = 0;
  private sgrCount = 0;
  private lastReset = -1;

  /**
   * `keepLines`: lines of output that can still show (history, screen and the cursor's line); after a
   * resize, the larger of the sizes before and after (keeping more than needed is only less skipping).
   * `release`: gets each chunk dropped as a whole (taken chunks are the taker's). `atRest`: whether
   * the first output to come starts where the parser is at rest; if not, nothing is scanned until
   * `markClean` says so.
   */
  constructor(
    public keepLines: number,
    private readonly release: (chunk: Uint8Array) => void = () => {},
    atRest = true,
  ) {
    this.clean = atRest;
  }

  /** Whether lines that come next can still be dropped (until the next take). */
  get skippable(): boolean {
    return this.clean && this.plain;
  }

  /** Adds output; answers how many bytes were dropped as unshowable (0 mostly). */
  push(chunk: Uint8Array): number {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (!this.clean || !this.plain) return 0;
    this.scan(chunk);
    return this.dropSkippable();
  }

  /** Takes everything waiting, to be parsed; what comes next waits until `markClean` vouches for it. */
  take(): TakenOutput {
    const taken = { skipped: this.takeCarried(), chunks: this.chunks, bytes: this.size };
    this.chunks = [];
    this.size = 0;
    this.clean = false;
    this.resetScan();
    return { ...taken, generation: ++this.generation };
  }

  /**
   * Takes the first of the output waiting, at most `maxBytes`, to be parsed while the rest waits. Within
   * the scanned plain lines, the piece ends where a line does (or, in a line longer than that, between
   * characters), so what stays is still scanned and its lines can still be dropped; elsewhere the piece
   * is cut anywhere and what stays waits for `markClean`. The piece is empty when all that waits is the
   * start of a sequence or a character.
   */
  takePiece(maxBytes: number): TakenOutput {
    if (this.size === 0) return this.takeTo(this.base);
    if (this.clean) {
      const cut = this.pieceEnd(this.base + maxBytes);
      // All that waits may be the start of a sequence or a character: the piece is empty until the rest comes.
      if (cut > this.base || (this.plain && this.size <= maxBytes)) return this.takeTo(cut);
    }
    const first = this.chunks[0]!;
    const bytes = Math.min(first.length, maxBytes);
    const chunks = this.shiftFront(bytes);
    this.size -= bytes;
    const skipped = this.takeCarried();
    this.clean = false;
    this.resetScan();
    return { skipped, chunks, bytes, generation: ++this.generation };
  }

  /**
   * The output taken at `generation` is parsed and left the parser at rest: scan what came since.
   * Answers how many bytes of it were dropped.
   */
  markClean(generation: number): number {
    if (generation !== this.generation || this.clean) return 0;
    this.clean = true;
    for (const c of this.chunks) {
      if (!this.plain) break;
      this.scan(c);
    }
    return this.dropSkippable();
  }

  private resetScan(): void {
    this.plain = true;
    this.base = this.pos = this.prev = this.params = this.p0 = this.p1 = 0;
    this.esc = IN_TEXT;
    this.lineEnds = [];
    this.lineSgrs = [];
    this.lineResets = [];
    this.lineHead = 0;
    this.sgrs = new Positions();
    this.sgrBase = this.sgrHead = this.sgrCount = 0;
    this.lastReset = -1;
  }

  private scan(data: Uint8Array): void {
    // Every byte of a flood passes here: state lives in locals and is stored back at the end.
    let prev = this.prev;
    let esc = this.esc;
    let params = this.params;
    const start = this.pos;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      const b = data[i]!;
      if (esc === IN_TEXT) {
        if (b >= 0x20 && b < 0x80) {
          // Runs of printable ASCII are most of a flood: skip through them in a tight loop (one unsigned
          // comparison per byte).
          let j = i + 1;
          while (j < n && (data[j]! - 0x20) >>> 0 < 0x60) j++;
          i = j - 1;
          prev = data[i]!;
          continue;
        }
        if (b >= 0x80) {
          // U+0080..U+009F (C2 80..C2 9F in UTF-8) are C1 controls, such as CSI.
          if (prev === 0xc2 && b <= 0x9f) {
            this.plain = false;
            return;
          }
        } else if (b === LF) {
          if (prev === CR) {
            this.lineEnds.push(start + i + 1);
            this.lineSgrs.push(this.sgrCount);
            this.lineResets.push(this.lastReset);
          }
        } else if (b === ESC) {
          esc = AFTER_ESC;
          this.escStart = start + i;
        } else if (b !== CR && b !== 0x09 && b !== 0x08 && b !== 0x07) {
          this.plain = false;
          return;
        }
      } else if (esc === AFTER_ESC) {
        if (b !== 0x5b) {
          this.plain = false;
          return;
        }
        esc = IN_CSI;
        params = 0;
      } else if ((b >= 0x30 && b <= 0x39) || b === 0x3b || b === 0x3a) {
        if (params === 0) this.p0 = b;
        else if (params === 1) this.p1 = b;
        params++;
      } else if (b === 0x6d) {
        // SGR. A full reset (`ESC[m`, `ESC[0m`, `ESC[0;...m`) makes the colors before it irrelevant.
        esc = IN_TEXT;
        if (this.sgrCount - this.sgrHead >= MAX_SGRS_PER_LINE * (this.keepLines + DROP_STEP_LINES)) {
          this.plain = false;
          return;
        }
        const reset = params === 0 || (this.p0 === 0x30 && (params === 1 || this.p1 === 0x3b));
        if (reset) this.lastReset = this.sgrCount;
        this.sgrs.push(this.escStart);
        this.sgrs.push(start + i + 1);
        this.sgrCount++;
      } else if (b === 0x4b) {
        // Erase in line: it changes only the line it is on.
        esc = IN_TEXT;
      } else {
        this.plain = false;
        return;
      }
      prev = b;
    }
    this.prev = prev;
    this.esc = esc;
    this.params = params;
    this.pos = start + n;
  }

  /**
   * Where a piece ending at most at `limit` can end: after the last whole line before it, or else at the
   * last point between characters (outside sequences and UTF-8 characters). The waiting output starts
   * at rest and is plain, so only CSI sequences need following here.
   */
  private pieceEnd(limit: number): number {
    let lo = this.lineHead;
    let hi = this.lineEnds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lineEnds[mid]! <= limit) lo = mid + 1;
      else hi = mid;
    }
    if (lo > this.lineHead) return this.lineEnds[lo - 1]!;
    // Past the last line scanned, only output scanned to the end is known to be plain.
    let rest = this.base;
    if (!this.plain) return rest;
    let at = this.base;
    let esc = IN_TEXT;
    /** UTF-8 continuation bytes still to come in the current character. */
    let need = 0;
    for (const c of this.chunks) {
      const n = Math.min(c.length, limit - at);
      for (let i = 0; i < n; i++) {
        const b = c[i]!;
        if (b === ESC) esc = AFTER_ESC;
        else if (esc === AFTER_ESC) esc = IN_CSI;
        else if (esc === IN_CSI) esc = b >= 0x40 ? IN_TEXT : IN_CSI;
        else if (b < 0x80) need = 0;
        else if (b < 0xc0) need = Math.max(0, need - 1);
        else need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
        if (esc === IN_TEXT && need === 0) rest = at + i + 1;
      }
      at += n;
      if (at >= limit) break;
    }
    return rest;
  }

  /** Takes the waiting output before `cut`, a point where the parser will be at rest; the rest stays scanned. */
  private takeTo(cut: number): TakenOutput {
    const bytes = cut - this.base;
    const chunks = this.shiftFront(bytes);
    this.size -= bytes;
    this.base = cut;
    while (this.lineHead < this.lineEnds.length && this.lineEnds[this.lineHead]! <= cut) this.lineHead++;
    while (this.sgrHead < this.sgrCount && this.sgrs.at(2 * (this.sgrHead - this.sgrBase)) < cut)
      this.sgrHead++;
    const skipped = this.takeCarried();
    this.compact();
    return { skipped, chunks, bytes, generation: this.generation };
  }

  /** Drops everything before the last `keepLines` waiting lines, once enough more wait; answers the bytes dropped. */
  private dropSkippable(): number {
    if (this.lineEnds.length - this.lineHead <= this.keepLines + DROP_STEP_LINES) return 0;
    const k = this.lineEnds.length - this.keepLines - 1;
    const cut = this.lineEnds[k]!;
    const reset = this.lineResets[k]!;
    const upTo = this.lineSgrs[k]!;
    // The colors in force at the cut: those carried so far (unless a full reset among the dropped lines
    // makes them irrelevant), then the dropped lines' own.
    const carried = reset >= this.sgrHead || !this.carried ? new SgrState() : this.carried.clone();
    if (!this.applySgrs(carried, Math.max(reset, this.sgrHead), upTo)) {
      this.plain = false;
      return 0;
    }
    const dropped = cut - this.base;
    this.removeFront(dropped);
    this.base = cut;
    this.carried = carried;
    this.lineHead = k + 1;
    this.sgrHead = upTo;
    this.compact();
    return dropped;
  }

  /** Removes dropped and taken lines and SGR sequences from their lists. */
  private compact(): void {
    this.sgrs.dropFront(2 * (this.sgrHead - this.sgrBase));
    this.sgrBase = this.sgrHead;
    if (this.lineHead > COMPACT_AFTER) {
      this.lineEnds.splice(0, this.lineHead);
      this.lineSgrs.splice(0, this.lineHead);
      this.lineResets.splice(0, this.lineHead);
      this.lineHead = 0;
    }
  }

  private takeCarried(): string | undefined {
    const sgr = this.carried?.toString();
    this.carried = undefined;
    return sgr;
  }

  /**
   * Follows the waiting SGR sequences [from, upTo) (by number) in `state`, walking the chunks once;
   * false if one is not understood.
   */
  private applySgrs(state: SgrState, from: number, upTo: number): boolean {
    let chunk = 0;
    let chunkStart = this.base;
    for (let s = from; s < upTo; s++) {
      const at = 2 * (s - this.sgrBase);
      // The parameters: without the ESC [ before them and the m after.
      const start = this.sgrs.at(at) + 2;
      const end = this.sgrs.at(at + 1) - 1;
      while (chunkStart + this.chunks[chunk]!.length <= start) chunkStart += this.chunks[chunk++]!.length;
      // Most sequences are one short number: read it in place.
      const bytes = this.chunks[chunk]!;
      if (end - chunkStart <= bytes.length && end - start <= 3) {
        let p = 0;
        let i = start - chunkStart;
        for (; i < end - chunkStart && bytes[i]! >= 0x30 && bytes[i]! <= 0x39; i++)
          p = p * 10 + bytes[i]! - 0x30;
        if (i === end - chunkStart) {
          state.applyOne(p);
          continue;
        }
      }
      let params = "";
      for (let c = chunk, cs = chunkStart; cs < end; cs += this.chunks[c++]!.length) {
        const bytes = this.chunks[c]!;
        params += String.fromCharCode(
          ...bytes.subarray(Math.max(0, start - cs), Math.min(bytes.length, end - cs)),
        );
      }
      if (!state.apply(params)) return false;
    }
    return true;
  }

  /** The first `bytes` waiting, as views of their chunks, which leave the list (the taker's now). */
  private shiftFront(bytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (bytes > 0) {
      const c = this.chunks[0]!;
      if (c.length <= bytes) {
        out.push(this.chunks.shift()!);
        bytes -= c.length;
      } else {
        out.push(c.subarray(0, bytes));
        this.chunks[0] = c.subarray(bytes);
        bytes = 0;
      }
    }
    return out;
  }

  private removeFront(bytes: number): void {
    this.size -= bytes;
    let n = 0;
    while (n < this.chunks.length && bytes >= this.chunks[n]!.length) bytes -= this.chunks[n++]!.length;
    for (const chunk of this.chunks.splice(0, n)) this.release(chunk);
    if (bytes > 0) this.chunks[0] = this.chunks[0]!.subarray(bytes);
  }
}

/**
 * Numbers added at the end and dropped from the front. Dropping only moves the start; the space is taken
 * back by one move when the list would otherwise grow. (An array's `splice` at the front moves all that
 * stays: in a flood of many SGR sequences, that cost more than scanning it.)
 */
class Positions {
  private buf = new Float64Array(1024);
  private start = 0;
  private end = 0;

  at(i: number): number {
    return this.buf[this.start + i]!;
  }

  push(n: number): void {
    if (this.end === this.buf.length) {
      const live = this.end - this.start;
      if (this.start < live) {
        const grown = new Float64Array(2 * this.buf.length);
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      } else this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = live;
    }
    this.buf[this.end++] = n;
  }

  dropFront(n: number): void {
    this.start += n;
  }
}
