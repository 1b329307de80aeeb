/**
 * Keystrokes typed into a terminal while the socket is down. They wait, bounded, and go out in order once
 * the terminal is subscribed again; or, if they waited too long or there is too much of it, none of it goes
 * (a command line cut in half could do harm) and the person is told.
 */

/** About a screenful of pasted text; more is not something to replay blind into a shell. */
export const PENDING_INPUT_MAX_CHARS = 16 * 1024;
/** Input older than this is no longer what the person means now (they have seen the outage). */
export const PENDING_INPUT_MAX_AGE_MS = 30_000;

export type PendingTake = { data: string } | { dropped: number; reason: string } | undefined;

export class PendingInput {
  private data = "";
  private since = 0;
  /** Set once input was thrown away, until take() reports it. */
  private lost: { chars: number; reason: string } | undefined;

  get chars(): number {
    return this.data.length;
  }

  get empty(): boolean {
    return this.data === "" && !this.lost;
  }

  /**
   * Queues input; false when it no longer fits, and then everything queued is dropped, and so is what is
   * typed after it until take() reports the loss: keys typed after a dropped paste are the end of a
   * command whose start is gone.
   */
  push(data: string, now = Date.now()): boolean {
    if (this.lost) {
      this.lost.chars += data.length;
      return false;
    }
    if (this.data === "") this.since = now;
    if (this.data.length + data.length > PENDING_INPUT_MAX_CHARS) {
      this.drop(data.length, `more than ${PENDING_INPUT_MAX_CHARS / 1024} KB was typed while disconnected`);
      return false;
    }
    this.data += data;
    return true;
  }

  /** What to deliver now (all of it, in order), or what was dropped and why; undefined when nothing waits. */
  take(now = Date.now()): PendingTake {
    if (this.data && now - this.since > PENDING_INPUT_MAX_AGE_MS) {
      this.drop(0, `it waited more than ${PENDING_INPUT_MAX_AGE_MS / 1000} s for the connection`);
    }
    const lost = this.lost;
    this.lost = undefined;
    if (lost) return { dropped: lost.chars, reason: lost.reason };
    if (!this.data) return undefined;
    const data = this.data;
    this.data = "";
    return { data };
  }

  /** Throws away what waits (the terminal is gone), answering how much that was. */
  discard(reason: string): void {
    if (this.data) this.drop(0, reason);
  }

  private drop(extra: number, reason: string): void {
    this.lost = { chars: (this.lost?.chars ?? 0) + this.data.length + extra, reason };
    this.data = "";
  }
}
