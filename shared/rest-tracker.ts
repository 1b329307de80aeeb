/**
 * Follows a terminal's output without parsing it into a screen, to tell where it is at rest: where xterm's
 * parser would be between sequences and characters, on the normal screen, with no scroll region there (what
 * `xtermAtRest` reads from a live xterm). The web server uses it to cut a lagging tab's waiting output and
 * skip its plain lines (WaitingOutput) without an xterm of its own.
 *
 * It follows xterm 6 as far as that goes and no further: the states of its parser (the VT500 table of
 * EscapeSequenceParser, run over the code points of its UTF-8 decoder), and the few sequences that switch
 * screens or set the scroll region. When it cannot know, it answers "not at rest", which only means that
 * nothing is skipped.
 */

/** Where a terminal's output stood at a snapshot, read from the screen that parsed it (`xtermRestState`). */
export interface RestState {
  /** The parser was between sequences and characters. */
  parser: boolean;
  altScreen: boolean;
  /** The normal screen has a scroll region narrower than the screen. */
  scrollRegion: boolean;
}

/** Said of output nothing is known about (no screen to ask, or a PTY host from before rest states). */
export const NOTHING_KNOWN: RestState = { parser: false, altScreen: false, scrollRegion: false };

const GROUND = 0;
const ESCAPE = 1;
const ESCAPE_INTERMEDIATE = 2;
const CSI_ENTRY = 3;
const CSI_PARAM = 4;
const CSI_INTERMEDIATE = 5;
const CSI_IGNORE = 6;
const SOS_PM_APC_STRING = 7;
const OSC_STRING = 8;
const DCS_ENTRY = 9;
const DCS_PARAM = 10;
const DCS_IGNORE = 11;
const DCS_INTERMEDIATE = 12;
const DCS_PASSTHROUGH = 13;
/**
 * Not known: the stream was taken up mid-sequence, and that sequence may still switch screens or set a
 * scroll region. Nothing is at rest until a full reset (ESC c) says where everything is.
 */
const UNKNOWN = 14;
const UNKNOWN_AFTER_ESC = 15;

/** Code points from U+00A0 on all act alike on the parser's state. */
const NON_ASCII = 0xa0;
/** xterm keeps at most this many parameters of a sequence. */
const MAX_PARAMS = 32;
const MAX_PARAM_VALUE = 0x7fffffff;

const isExecutable = (c: number) => c <= 0x17 || c === 0x19 || (c >= 0x1c && c <= 0x1f);
const isPrintable = (c: number) => c >= 0x20 && c <= 0x7e;

export class RestTracker {
  private state: number;
  /** UTF-8: continuation bytes still to come, the bytes' kind (2, 3 or 4), and the code point so far. */
  private need = 0;
  private kind = 0;
  private cp = 0;
  private altScreen: boolean;
  private scrollRegion: boolean;
  /** The CSI sequence being read: prefix and intermediate bytes, and parameters. */
  private collect = "";
  private params: number[] = [0];
  /** After a `:`, digits belong to a sub-parameter (which no sequence followed here uses). */
  private inSub = false;

  constructor(
    from: RestState,
    private rows: number,
  ) {
    // Taken up mid-sequence, the sequence may still switch screens: nothing is known until a full reset.
    this.state = from.parser ? GROUND : UNKNOWN;
    this.altScreen = from.altScreen;
    this.scrollRegion = from.scrollRegion;
  }

  get atRest(): boolean {
    return this.state === GROUND && this.need === 0 && !this.altScreen && !this.scrollRegion;
  }

  /** A resize leaves a full scroll region full; a narrower one may or may not survive it (so: kept). */
  resize(rows: number): void {
    this.rows = rows;
  }

  /**
   * How many of `data`'s first bytes (at most `max`) bring output that stopped in the middle of a sequence
   * or character to rest; 0 if none do (or it is at rest already). Nothing is fed: the caller sends those
   * bytes, and output after them can be skipped from the start.
   */
  restPoint(data: Uint8Array, max: number): number {
    if (this.atRest) return 0;
    const probe: RestTracker = Object.assign(Object.create(RestTracker.prototype), this);
    probe.params = [...this.params];
    const n = Math.min(max, data.length);
    for (let i = 0; i < n; i++) {
      probe.feed(data.subarray(i, i + 1));
      if (probe.atRest) return i + 1;
    }
    return 0;
  }

  feed(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (this.state >= UNKNOWN) {
        if (this.state === UNKNOWN_AFTER_ESC && b === 0x63) {
          this.state = GROUND;
          this.need = 0;
          this.altScreen = this.scrollRegion = false;
        } else this.state = b === 0x1b ? UNKNOWN_AFTER_ESC : UNKNOWN;
        continue;
      }
      if (this.need > 0) {
        if ((b & 0xc0) === 0x80) {
          this.cp = (this.cp << 6) | (b & 0x3f);
          if (--this.need > 0) continue;
          const cp = this.cp;
          const valid =
            this.kind === 2
              ? cp >= 0x80
              : this.kind === 3
                ? cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) && cp !== 0xfeff
                : cp >= 0x10000 && cp <= 0x10ffff;
          // A lead byte that encodes less than it must is dropped, and its continuation byte is read again:
          // on its own, that is skipped too.
          if (valid) this.state = this.next(Math.min(cp, NON_ASCII));
          continue;
        }
        // A wrong continuation drops the character; the byte starts afresh.
        this.need = 0;
      }
      if (b < 0x80) this.state = this.next(b);
      else if ((b & 0xe0) === 0xc0) this.lead(2, b & 0x1f);
      else if ((b & 0xf0) === 0xe0) this.lead(3, b & 0x0f);
      else if ((b & 0xf8) === 0xf0) this.lead(4, b & 0x07);
      // else: a stray continuation byte or an invalid one, skipped.
    }
  }

  private lead(kind: number, bits: number): void {
    this.kind = kind;
    this.need = kind - 1;
    this.cp = bits;
  }

  /** The parser's state after one code point (U+00A0 and up as NON_ASCII), as xterm's table has it. */
  private next(c: number): number {
    const s = this.state;
    // Anywhere: cancel, escape, and the C1 controls.
    if (c === 0x18 || c === 0x1a) return GROUND;
    if (c === 0x1b) return ESCAPE;
    if (c >= 0x80 && c <= 0x9f) {
      if (c === 0x90) return this.begin(DCS_ENTRY);
      if (c === 0x9b) return this.begin(CSI_ENTRY);
      if (c === 0x9d) return OSC_STRING;
      if (c === 0x98 || c === 0x9e || c === 0x9f) return SOS_PM_APC_STRING;
      return GROUND;
    }
    switch (s) {
      case GROUND:
        return s;
      case ESCAPE:
        if (isExecutable(c) || c === 0x7f) return s;
        if (c >= 0x20 && c <= 0x2f) return ESCAPE_INTERMEDIATE;
        if (c === 0x5b) return this.begin(CSI_ENTRY);
        if (c === 0x5d) return OSC_STRING;
        if (c === 0x50) return this.begin(DCS_ENTRY);
        if (c === 0x58 || c === 0x5e || c === 0x5f) return SOS_PM_APC_STRING;
        // ESC c: a full reset, to the normal screen without a scroll region. Any other final byte (or
        // anything else) ends the sequence too.
        if (c === 0x63) this.altScreen = this.scrollRegion = false;
        return GROUND;
      case ESCAPE_INTERMEDIATE:
        if (isExecutable(c) || c === 0x7f || (c >= 0x20 && c <= 0x2f)) return s;
        return GROUND;
      case CSI_ENTRY:
      case CSI_PARAM:
        if (isExecutable(c) || c === 0x7f) return s;
        if (c >= 0x30 && c <= 0x3b) {
          this.param(c);
          return CSI_PARAM;
        }
        if (c >= 0x3c && c <= 0x3f) {
          if (s === CSI_PARAM) return CSI_IGNORE;
          this.collect += String.fromCharCode(c);
          return CSI_PARAM;
        }
        if (c >= 0x20 && c <= 0x2f) {
          this.collect += String.fromCharCode(c);
          return CSI_INTERMEDIATE;
        }
        if (c >= 0x40 && c <= 0x7e) this.dispatchCsi(c);
        return GROUND;
      case CSI_INTERMEDIATE:
        if (isExecutable(c) || c === 0x7f) return s;
        if (c >= 0x20 && c <= 0x2f) {
          this.collect += String.fromCharCode(c);
          return s;
        }
        if (c >= 0x30 && c <= 0x3f) return CSI_IGNORE;
        if (c >= 0x40 && c <= 0x7e) this.dispatchCsi(c);
        return GROUND;
      case CSI_IGNORE:
        if (isExecutable(c) || (c >= 0x20 && c <= 0x3f) || c === 0x7f || c === NON_ASCII) return s;
        return GROUND;
      case SOS_PM_APC_STRING:
        if (isPrintable(c) || isExecutable(c) || c === 0x7f) return s;
        return GROUND;
      case OSC_STRING:
        // BEL ends it; the rest of C0 and everything printable is part of it.
        if (c === 0x07) return GROUND;
        return s;
      case DCS_ENTRY:
      case DCS_PARAM:
      case DCS_INTERMEDIATE:
        if (isExecutable(c) || c === 0x7f) return s;
        if (c >= 0x40 && c <= 0x7e) return DCS_PASSTHROUGH;
        if (c >= 0x20 && c <= 0x2f) return DCS_INTERMEDIATE;
        if (s === DCS_INTERMEDIATE) return c >= 0x30 && c <= 0x3f ? DCS_IGNORE : GROUND;
        if (c >= 0x30 && c <= 0x3b) return DCS_PARAM;
        if (c >= 0x3c && c <= 0x3f) return s === DCS_ENTRY ? DCS_PARAM : DCS_IGNORE;
        return GROUND;
      default:
        // DCS_IGNORE and DCS_PASSTHROUGH: everything but the anywhere-rules above is part of the string.
        return s;
    }
  }

  /** Enters a CSI or DCS sequence: what the last one collected is cleared. */
  private begin(state: number): number {
    this.collect = "";
    this.params = [0];
    this.inSub = false;
    return state;
  }

  /** A digit, `;` (next parameter) or `:` (a sub-parameter). */
  private param(c: number): void {
    const last = this.params.length - 1;
    if (c === 0x3b) {
      this.inSub = false;
      // Past xterm's limit, parameters are ignored.
      this.params.push(this.params.length < MAX_PARAMS ? 0 : Number.NaN);
    } else if (c === 0x3a) this.inSub = true;
    else if (!this.inSub && !Number.isNaN(this.params[last]!)) {
      this.params[last] = Math.min(MAX_PARAM_VALUE, this.params[last]! * 10 + (c - 0x30));
    }
  }

  private dispatchCsi(final: number): void {
    const params = this.params.filter((p) => !Number.isNaN(p));
    if (this.collect === "?" && (final === 0x68 || final === 0x6c)) {
      // DECSET/DECRST 47, 1047, 1049: the alternate screen on or off.
      for (const p of params) if (p === 47 || p === 1047 || p === 1049) this.altScreen = final === 0x68;
    } else if (this.collect === "" && final === 0x72) {
      // DECSTBM, on whichever screen is on; xterm ignores a region of less than two lines.
      const top = params[0] || 1;
      let bottom = params[1] ?? 0;
      if (params.length < 2 || bottom > this.rows || bottom === 0) bottom = this.rows;
      if (bottom > top && !this.altScreen) this.scrollRegion = !(top === 1 && bottom === this.rows);
    } else if (this.collect === "!" && final === 0x70) {
      // DECSTR (soft reset) clears the scroll region of the screen that is on.
      if (!this.altScreen) this.scrollRegion = false;
    }
  }
}

/**
 * Whether an xterm (browser or headless) is at a point where output can be cut and its plain lines skipped
 * (see WaitingOutput): its parser between sequences and characters, on the normal screen, with no scroll
 * region.
 */
export function xtermAtRest(term: { rows: number; buffer: { active: { type: string } } }): boolean {
  const state = xtermRestState(term);
  return state.parser && !state.altScreen && !state.scrollRegion;
}

/**
 * The rest state of an xterm (pinned to 6), read from its internals. When they are not there, nothing is
 * known, the parser is said not to be at rest, and every byte is parsed.
 */
export function xtermRestState(term: { rows: number; buffer: { active: { type: string } } }): RestState {
  const core = (
    term as {
      _core?: {
        _inputHandler?: { _parser?: { currentState: number }; _utf8Decoder?: { interim?: Uint8Array } };
        buffers?: { normal?: { scrollTop: number; scrollBottom: number } };
      };
    }
  )._core;
  const input = core?._inputHandler;
  const normal = core?.buffers?.normal;
  return {
    parser: input?._parser?.currentState === 0 && input._utf8Decoder?.interim?.[0] === 0 && !!normal,
    altScreen: term.buffer.active.type !== "normal",
    scrollRegion: normal?.scrollTop !== 0 || normal.scrollBottom !== term.rows - 1,
  };
}
