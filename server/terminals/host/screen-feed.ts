import { WaitingOutput } from "../../../shared/waiting-output.ts";
import type { Screen } from "./screen.ts";

/**
 * Feeds one screen its output and resizes, in order. The screen is only read for a replay, so output
 * is not parsed as it arrives: it waits (see waiting-output.ts, which drops what of a flood can no longer
 * show) and is parsed once it goes quiet, when a replay or a resize needs the screen, or when too much
 * waits. In a flood this takes the parse, the costliest work of the PTY host, off the stream almost
 * entirely; a screen read at any moment is still exact.
 */

/**
 * Output is parsed once none has come for this long (long enough that a flood held up by flow control
 * is not parsed at every pause)...
 */
const QUIET_MS = 300;
/** ...or once this much waits... */
const PARSE_BUDGET_BYTES = 4 * 1024 * 1024;
/**
 * ...or this much that cannot be skipped (a full-screen program's output, or lines after a cursor
 * movement): parsing it starts a fresh stretch in which plain lines can be skipped again.
 */
const UNSKIPPABLE_BUDGET_BYTES = 256 * 1024;

export class ScreenFeed {
  private readonly waiting: WaitingOutput;
  private chain: Promise<void> = Promise.resolve();
  /** Parses under way: a flood waits for them rather than queueing more (see `write`). */
  private parsing = 0;
  private quietTimer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private disposed = false;

  /**
   * `onParsed`: this many bytes are on the screen (or were dropped as unshowable). `release`: gets each
   * chunk written once nothing refers to it any more.
   */
  constructor(
    readonly screen: Screen,
    private readonly onParsed: (bytes: number) => void,
    private readonly release: (chunk: Uint8Array) => void = () => {},
  ) {
    this.waiting = new WaitingOutput(screen.keepLines, release);
  }

  write(data: Uint8Array): void {
    this.lastWrite = performance.now();
    const dropped = this.waiting.push(data);
    if (dropped > 0) this.onParsed(dropped);
    // While a parse is under way, output piles up unscanned: when that parse ends at rest, what came
    // meanwhile is scanned and can be skipped. Queueing parse after parse would never give it the chance.
    if (this.parsing === 0 && this.overBudget()) this.parse();
    else this.quietTimer ??= setTimeout(this.onQuiet, QUIET_MS);
  }

  /** Resizes the screen once the output before it is on it. */
  resize(cols: number, rows: number): void {
    this.parse();
    this.waiting.keepLines = Math.max(this.waiting.keepLines, this.screen.keepLinesAt(rows));
    this.chain = this.chain.then(() => {
      if (!this.disposed) this.screen.resize(cols, rows);
    });
  }

  /** Resolves once everything written so far is on the screen. */
  idle(): Promise<void> {
    this.parse();
    return this.chain;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.quietTimer);
    this.screen.dispose();
  }

  private overBudget(): boolean {
    return this.waiting.size > (this.waiting.skippable ? PARSE_BUDGET_BYTES : UNSKIPPABLE_BUDGET_BYTES);
  }

  private readonly onQuiet = (): void => {
    this.quietTimer = undefined;
    const since = performance.now() - this.lastWrite;
    if (since >= QUIET_MS) this.parse();
    else this.quietTimer = setTimeout(this.onQuiet, QUIET_MS - since);
  };

  private parse(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (this.waiting.size === 0) return;
    const taken = this.waiting.take();
    this.parsing++;
    this.chain = this.chain.then(async () => {
      if (this.disposed) return;
      if (taken.skipped !== undefined) await this.screen.skipFlood(taken.skipped);
      await this.screen.write(taken.chunks);
      for (const chunk of taken.chunks) this.release(chunk);
      this.parsing--;
      this.onParsed(taken.bytes);
      // Output taken next starts where this ends: it can be scanned for a skip if the parser is at rest.
      if (this.screen.atRest()) {
        const dropped = this.waiting.markClean(taken.generation);
        if (dropped > 0) this.onParsed(dropped);
      }
      if (this.parsing === 0 && this.overBudget()) this.parse();
    });
  }
}
