import { SETUP_OUTPUT_TAIL_CHARS } from "../../shared/records.ts";

/** Live output goes out at most this often once it flows. */
export const LIVE_OUTPUT_MS = 100;

/**
 * A setup command's output on its way to the checklist: a first chunk at once, then what came in each
 * LIVE_OUTPUT_MS, cut to the SETUP_OUTPUT_TAIL_CHARS the checklist keeps anyway. A setup printing in a
 * loop sent every tab one event per pipe read (9,424 events, 400 MB in 8 s).
 */
export class LiveOutput {
  private pending = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (text: string) => void) {}

  push(chunk: string): void {
    if (this.timer) {
      this.pending = (this.pending + chunk).slice(-SETUP_OUTPUT_TAIL_CHARS);
      return;
    }
    this.send(chunk.slice(-SETUP_OUTPUT_TAIL_CHARS));
    this.timer = setTimeout(() => this.tick(), LIVE_OUTPUT_MS);
  }

  /** Sends what waits (the command is over: its last output shows before its result). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending) this.send(this.pending);
    this.pending = "";
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.pending) return;
    this.send(this.pending);
    this.pending = "";
    this.timer = setTimeout(() => this.tick(), LIVE_OUTPUT_MS);
  }
}
