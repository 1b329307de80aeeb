/**
 * Batches one terminal's output. Output that follows input, or that comes after a quiet spell, goes
 * out at once (keystroke echo must never wait on a timer); only sustained output is gathered for up
 * to COALESCE_MS into frames of up to MAX_BATCH_BYTES. Each batch is gathered behind `headroom` free
 * bytes, so it can become a frame without another copy.
 */

export const COALESCE_MS = 5;
export const MAX_BATCH_BYTES = 128 * 1024;

export class OutputCoalescer {
  private parts: Uint8Array[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastEmit = 0;
  private inputSinceEmit = false;

  /**
   * `emit` gets a fresh buffer it may keep: `headroom` free bytes, then the output; `interactive` marks
   * output sent at once.
   */
  constructor(
    private readonly headroom: number,
    private readonly emit: (frame: Uint8Array, interactive: boolean) => void,
  ) {}

  noteInput(): void {
    this.inputSinceEmit = true;
  }

  push(chunk: Uint8Array): void {
    const now = performance.now();
    if (this.size === 0 && (this.inputSinceEmit || now - this.lastEmit >= COALESCE_MS)) {
      const out = Buffer.allocUnsafe(this.headroom + chunk.length);
      out.set(chunk, this.headroom);
      this.send(out, true, now);
      return;
    }
    this.parts.push(chunk);
    this.size += chunk.length;
    // Output after input goes now even when a batch is pending: a program that answers a key twice (the
    // line discipline's echo, then its own output) must not hold the next key's echo behind the timer.
    if (this.inputSinceEmit) this.flush(true);
    else if (this.size >= MAX_BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  /** Emits whatever is gathered now (before exit, a snapshot, or on the timer). */
  flush(interactive = false): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.size === 0) return;
    const out = Buffer.allocUnsafe(this.headroom + this.size);
    let at = this.headroom;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [];
    this.size = 0;
    this.send(out, interactive, performance.now());
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parts = [];
    this.size = 0;
  }

  private send(bytes: Uint8Array, interactive: boolean, now: number): void {
    this.lastEmit = now;
    this.inputSinceEmit = false;
    this.emit(bytes, interactive);
  }
}
