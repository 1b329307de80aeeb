import { deflateRawSync, inflateRawSync } from "node:zlib";
import { SerializeAddon } from "@xterm/addon-serialize";
import xtermHeadless from "@xterm/headless";
import { type RestState, xtermAtRest, xtermRestState } from "../../../shared/rest-tracker.ts";
import { linesThatCanShow } from "../../../shared/waiting-output.ts";
import { serializeRows } from "./row-serializer.ts";

/**
 * One terminal's screen and scrollback. The headless xterm keeps only the live screen and a short
 * scrollback (exact: colors, modes, cursor); every line that scrolls into that scrollback is copied,
 * serialized with its colors, into a compact history of deflated chunks. Plain xterm at 10,000 lines
 * by 200 columns costs ~28 MB; this keeps the same lines in well under 5 MB.
 */

/** Rows of scrollback kept exact in xterm; older lines live in the compact history. */
const LIVE_SCROLLBACK = 100;
/** Archive lines once this many have scrolled in unarchived, well before xterm would trim them. */
const ARCHIVE_EVERY = LIVE_SCROLLBACK / 2;
/** Serialized history is deflated in chunks of about this size. */
const CHUNK_BYTES = 64 * 1024;
/**
 * Sealed chunks are deflated once output has been quiet this long: in a flood most chunks are dropped
 * (past the line limit) soon after they are sealed, and deflating them first would double the cost of
 * every line. Until then they stay plain, which the line limit bounds too.
 */
const COMPRESS_AFTER_MS = 500;

interface Chunk {
  /** Deflated, or plain until output goes quiet. */
  data: Buffer | string;
  lines: number;
}

export interface ScreenOptions {
  cols: number;
  rows: number;
  /** Lines of history kept in all (compact history plus live scrollback). */
  scrollbackLines: number;
}

export class Screen {
  private readonly term: InstanceType<typeof xtermHeadless.Terminal>;
  private readonly serializer = new SerializeAddon();
  private readonly chunks: Chunk[] = [];
  private open = "";
  /** Where each line of the open chunk ends, so the newest lines can be taken back after a resize. */
  private openEnds: number[] = [];
  private resizing = false;
  private compressTimer: NodeJS.Timeout | undefined;
  /** Blank rows left by skipFlood, still to scroll by: dropped instead of archived. */
  private placeholderRows = 0;
  private openLines = 0;
  private historyLines = 0;
  /** Rows of xterm's normal buffer, from the top, already copied to the history. */
  private archivedRows = 0;
  /** Lines scrolled into xterm's scrollback since the last archive. */
  private scrolled = 0;
  private baseAtArchive = 0;

  constructor(private readonly options: ScreenOptions) {
    this.term = new xtermHeadless.Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: Math.min(LIVE_SCROLLBACK, options.scrollbackLines),
      allowProposedApi: true,
    });
    // Typed for the browser xterm; the headless terminal has the same buffer API the addon uses.
    this.term.loadAddon(this.serializer as unknown as Parameters<typeof this.term.loadAddon>[0]);
    this.term.onScroll(() => {
      if (this.resizing || this.term.buffer.active.type !== "normal") return;
      this.scrolled++;
      if (this.scrolled >= ARCHIVE_EVERY) this.archive();
    });
  }

  /** Lines of output that can still show (history, screen and the cursor's line). */
  get keepLines(): number {
    return this.keepLinesAt(this.term.rows);
  }

  /** The same, for a screen of this many rows. */
  keepLinesAt(rows: number): number {
    return linesThatCanShow(this.options.scrollbackLines, rows);
  }

  /**
   * Stands in for a skipped flood (see waiting-output.ts): more lines follow than the screen and history
   * keep, so both start empty and the colors carry on. The screen is scrolled clear under those colors,
   * as the skipped lines would have left it (new rows take the background in force); the blank rows
   * above the cursor are placeholders that never enter the history.
   */
  async skipFlood(sgr: string): Promise<void> {
    await this.write(sgr + "\r\n".repeat(this.term.rows));
    this.archive();
    this.placeholderRows = this.term.rows - 1;
    this.chunks.length = 0;
    this.open = "";
    this.openEnds = [];
    this.openLines = this.historyLines = 0;
  }

  /** Resolves once the data (one piece, or several in order) is parsed. */
  write(data: Uint8Array | string | Uint8Array[]): Promise<void> {
    const parts = Array.isArray(data) ? data : [data];
    return new Promise((resolve) => {
      if (parts.length === 0) return resolve();
      for (let i = 0; i < parts.length - 1; i++) this.term.write(parts[i]!);
      this.term.write(parts.at(-1)!, resolve);
    });
  }

  /** Whether output can be cut here and its plain lines skipped (see waiting-output.ts). */
  atRest(): boolean {
    return xtermAtRest(this.term);
  }

  /** Where the output parsed so far leaves the parser and the screens (see RestTracker). */
  restState(): RestState {
    return xtermRestState(this.term);
  }

  resize(cols: number, rows: number): void {
    // Reflow rewraps rows and can move screen rows into the scrollback: count the unarchived logical
    // lines down to the cursor's, then find where they start again after the reflow.
    this.archive();
    const before = this.term.buffer.normal;
    if (this.options.scrollbackLines <= LIVE_SCROLLBACK) {
      this.term.resize(cols, rows);
      return;
    }
    const unarchived = this.logicalLinesBetween(this.archivedRows, before.baseY + before.cursorY);
    this.resizing = true;
    this.term.resize(cols, rows);
    this.resizing = false;
    const after = this.term.buffer.normal;
    let row = after.baseY + after.cursorY;
    for (let seen = 0; row > 0; row--) {
      if (!after.getLine(row)?.isWrapped && ++seen === unarchived) break;
    }
    // A taller screen pulls archived lines back down from the scrollback: they leave the history.
    if (row > after.baseY) this.dropNewest(this.logicalLinesBetween(after.baseY, row - 1));
    this.archivedRows = Math.max(0, Math.min(row, after.baseY));
    this.baseAtArchive = after.baseY;
    this.scrolled = 0;
  }

  /** History plus the exact screen, as one string to write into a fresh xterm. */
  serialize(): string {
    this.archive();
    const pending = Math.max(0, this.term.buffer.normal.baseY - this.archivedRows);
    const live = this.serializer.serialize({ scrollback: pending });
    const history = this.history();
    if (!history) return live;
    // The addon writes the live rows as onto an empty screen: it counts on the line feeds of the first
    // screenful not scrolling, since a scroll fills the new line with the background color in force.
    // So the history's rows still on the screen are scrolled into the history first, from the bottom row.
    const rows = this.term.rows;
    const onScreen = Math.min(
      rows - 1,
      this.historyLines >= rows ? rows : rowsWhenReplayed(history, this.term.cols, rows),
    );
    return `${history}\x1b[0m\x1b[${rows};1H${"\n".repeat(onScreen)}\x1b[H${live}`;
  }

  dispose(): void {
    clearTimeout(this.compressTimer);
    this.term.dispose();
  }

  private compress(): void {
    for (const c of this.chunks)
      if (typeof c.data === "string") c.data = deflateRawSync(c.data, { level: 1 });
  }

  private history(): string {
    return (
      this.chunks
        .map((c) => (typeof c.data === "string" ? c.data : inflateRawSync(c.data).toString()))
        .join("") + this.open
    );
  }

  /** Removes the newest lines of the history (they are back on the live screen). */
  private dropNewest(lines: number): void {
    const keep = Math.max(0, this.openEnds.length - lines);
    this.open = this.open.slice(0, keep === 0 ? 0 : this.openEnds[keep - 1]);
    const dropped = this.openEnds.length - keep;
    this.openEnds.length = keep;
    this.openLines -= dropped;
    this.historyLines -= dropped;
  }

  private dropOldestOpen(lines: number): void {
    const cut = this.openEnds[lines - 1]!;
    this.open = this.open.slice(cut);
    this.openEnds = this.openEnds.slice(lines).map((e) => e - cut);
    this.openLines -= lines;
    this.historyLines -= lines;
  }

  private logicalLinesBetween(from: number, to: number): number {
    const buf = this.term.buffer.normal;
    let n = 0;
    for (let r = from; r <= to; r++) if (!buf.getLine(r)?.isWrapped) n++;
    return n;
  }

  /** Copies the rows that scrolled into xterm's scrollback since last time into the history. */
  private archive(): void {
    if (this.options.scrollbackLines <= LIVE_SCROLLBACK) return;
    const buf = this.term.buffer.normal;
    const base = buf.baseY;
    // xterm trimmed this many rows off the top while lines scrolled in (its scrollback was full).
    const trimmed = Math.max(0, this.baseAtArchive + this.scrolled - base);
    let from = Math.max(0, this.archivedRows - trimmed);
    const discard = Math.min(this.placeholderRows, Math.max(0, base - from));
    from += discard;
    this.placeholderRows -= discard;
    let to = base;
    // Archive whole logical lines only: never split a wrapped line from its continuation.
    while (to > from && buf.getLine(to)?.isWrapped) to--;
    if (to > from) {
      const ends: number[] = [];
      const text =
        serializeRows(buf, from, to, this.term.cols, ends) ?? this.serializeWithAddon(from, to, ends);
      this.append(text, ends);
    }
    this.archivedRows = to;
    this.baseAtArchive = base;
    this.scrolled = 0;
  }

  /** The slow path, for an xterm whose internals are not the ones serializeRows reads. */
  private serializeWithAddon(from: number, to: number, ends: number[]): string {
    const range = { start: from, end: to - 1 };
    const text = `${this.serializer.serialize({ range, excludeModes: true, excludeAltBuffer: true })}\r\n`;
    for (let at = text.indexOf("\r\n"); at !== -1; at = text.indexOf("\r\n", at + 2)) ends.push(at + 2);
    return text;
  }

  /** Appends whole lines; `ends` holds the offset after each line's CRLF within `text`. */
  private append(text: string, ends: number[]): void {
    const lines = ends.length;
    for (const e of ends) this.openEnds.push(this.open.length + e);
    this.open += text;
    this.openLines += lines;
    this.historyLines += lines;
    if (this.open.length >= CHUNK_BYTES) {
      this.chunks.push({ data: this.open, lines: this.openLines });
      clearTimeout(this.compressTimer);
      this.compressTimer = setTimeout(() => this.compress(), COMPRESS_AFTER_MS);
      this.open = "";
      this.openLines = 0;
      this.openEnds = [];
    }
    // The limit counts the lines a replay shows above the screen (the live rows not yet archived are
    // few: at most ARCHIVE_EVERY).
    const keep = this.options.scrollbackLines;
    while (this.chunks.length > 0 && this.historyLines - this.chunks[0]!.lines >= keep) {
      this.historyLines -= this.chunks.shift()!.lines;
    }
    if (this.chunks.length === 0 && this.historyLines > keep) this.dropOldestOpen(this.historyLines - keep);
  }
}

/** Rows that a short history takes when written into a terminal this wide (its lines may wrap). */
function rowsWhenReplayed(history: string, cols: number, rows: number): number {
  const term = new xtermHeadless.Terminal({ cols, rows, scrollback: rows, allowProposedApi: true });
  const input = (term as unknown as { _core?: { _inputHandler?: { parse(d: string): void } } })._core
    ?._inputHandler;
  // The history ends with a line feed: the cursor's row is where its rows end.
  input?.parse(history);
  const b = term.buffer.active;
  const count = input ? b.baseY + b.cursorY : rows;
  term.dispose();
  return count;
}
