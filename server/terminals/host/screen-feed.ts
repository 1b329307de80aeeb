import { floodSkip } from "./flood-skip.ts";
import type { Screen } from "./screen.ts";

/**
 * Feeds one screen its output and resizes in order, a chunk at a time. Output waits here rather than
 * in xterm's own buffer so that, when parsing falls this far behind a flood, the part that can no longer
 * show is skipped instead of parsed (see flood-skip.ts).
 */

/** Waiting output that makes a skip worth looking for, and how much more must arrive before the next look. */
const SKIP_BACKLOG_BYTES = 1024 * 1024;

type Item = Uint8Array | (() => void);

export class ScreenFeed {
  private queue: Item[] = [];
  private queued = 0;
  private running: Promise<void> | undefined;
  private pushedSinceLook = 0;

  /** `onParsed`: this many bytes are on the screen (or were skipped as unshowable). */
  constructor(
    readonly screen: Screen,
    private readonly onParsed: (bytes: number) => void,
  ) {}

  write(data: Uint8Array): void {
    this.queued += data.length;
    this.pushedSinceLook += data.length;
    this.push(data);
  }

  /** Runs `change` (a resize) once the output before it is on the screen. */
  after(change: () => void): void {
    this.push(change);
  }

  /** Resolves once everything pushed so far is on the screen. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private push(item: Item): void {
    this.queue.push(item);
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.queued > SKIP_BACKLOG_BYTES && this.pushedSinceLook > SKIP_BACKLOG_BYTES) await this.trySkip();
      const item = this.queue.shift()!;
      if (typeof item === "function") {
        item();
        continue;
      }
      this.queued -= item.length;
      await this.screen.write(item);
      this.onParsed(item.length);
    }
  }

  /** Joins the output waiting before the next resize and skips what of it cannot show. */
  private async trySkip(): Promise<void> {
    this.pushedSinceLook = 0;
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && typeof this.queue[n] !== "function")
      bytes += (this.queue[n++] as Uint8Array).length;
    const all = new Uint8Array(bytes);
    let at = 0;
    for (const c of this.queue.slice(0, n) as Uint8Array[]) {
      all.set(c, at);
      at += c.length;
    }
    const skip = floodSkip(all, this.screen.keepLines);
    const rest = skip ? all.subarray(skip.skip) : all;
    this.queue.splice(0, n, ...(rest.length > 0 ? [rest] : []));
    if (!skip) return;
    this.queued -= skip.skip;
    await this.screen.skipFlood(skip.sgr);
    this.onParsed(skip.skip);
  }
}
