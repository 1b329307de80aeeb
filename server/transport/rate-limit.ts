/** Failed sign-in attempts allowed per client address in each window (code-server allows a few a minute too). */
export const FAILED_ATTEMPTS_PER_WINDOW = 5;
export const FAILED_ATTEMPT_WINDOW_MS = 60_000;
/** Addresses remembered at once; past this the stalest are forgotten, so memory stays bounded. */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Counts failed attempts per key (client address) in a sliding window. Checked before a token is
 * compared, so a limited client learns nothing, not even from a correct guess.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = FAILED_ATTEMPTS_PER_WINDOW,
    private readonly windowMs = FAILED_ATTEMPT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the key may try now, else how long until it may. */
  retryAfterMs(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    return recent[0]! + this.windowMs - this.now();
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    if (recent.length > this.limit) recent.shift();
    this.failures.delete(key); // re-insert so Map order is least recently failed first
    this.failures.set(key, recent);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }
}
