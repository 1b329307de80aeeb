import { TERM_HIGH_WATERMARK, TERM_LOW_WATERMARK, type TermSnapshot } from "../../shared/terminals.ts";
import { giveFrame, takeFrame } from "./frame-pool.ts";
import type { DataMessage } from "./host/wire.ts";

/**
 * Fan-out and flow control of one terminal's output to its subscribers (browser tabs). Each
 * subscriber's unacknowledged bytes are counted; when every subscriber is past the high watermark the
 * PTY is paused (the shell blocks, nothing queues), and it resumes once one is back under the low
 * watermark. A subscriber that lags while another keeps up is not allowed to hold the terminal back:
 * it stops getting output and, once it has caught up, is resynced with a fresh screen. Acks are bytes,
 * not batches, and the high watermark is well above the client's ack unit, so there is always
 * something in flight whose ack resumes the PTY: no deadlock.
 */

/** Output held for one subscriber while its snapshot is being taken. */
const MAX_BUFFERED_BYTES = 4 * TERM_HIGH_WATERMARK;
/**
 * At most this much of a subscriber's output is on its way (in socket buffers, in the browser) at a time;
 * the rest of its window waits here. Output on its way is ahead of everything else on that socket, such
 * as the echo of a keystroke in another terminal, and the kernel would otherwise take megabytes of it.
 */
const TRANSIT_BYTES = 512 * 1024;

export interface TermSink {
  /**
   * Output to forward as a binary frame; `interactive` output may go ahead of bulk. The bytes may be a
   * view of a reused read buffer: valid only during the call.
   */
  data(numericId: number, bytes: Uint8Array, interactive: boolean): void;
  /** A fresh screen replaces the backlog this subscriber missed while it lagged. */
  resync(snapshot: TermSnapshot): void;
}

export class Subscriber {
  sent = 0;
  acked = 0;
  /** Output before this stream offset is already in the snapshot the subscriber got. */
  startOffset = 0;
  started = false;
  stale = false;
  resyncing = false;
  /** Output was dropped while waiting for a snapshot: the next one must be taken afresh. */
  overflowed = false;
  buffered: DataMessage[] = [];
  bufferedBytes = 0;
  /** Output past TRANSIT_BYTES, waiting for acks (in order). */
  private held: { num: number; bytes: Uint8Array }[] = [];
  private heldBytes = 0;

  constructor(
    readonly sink: TermSink,
    private readonly flow: TermFlow,
  ) {}

  get inflight(): number {
    return this.sent - this.acked + this.bufferedBytes + this.heldBytes;
  }

  /** Called once the subscriber has been sent the snapshot taken at `offset`. */
  start(offset: number): void {
    this.startOffset = offset;
    this.started = true;
    this.sent = this.acked = 0;
    this.dropHeld();
    const buffered = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    if (this.overflowed) {
      // Some output after this snapshot was dropped: a fresh snapshot replaces it.
      this.overflowed = false;
      this.stale = true;
      this.flow.update();
      return;
    }
    for (const msg of buffered) this.deliver(msg);
    this.flow.update();
  }

  ack(bytes: number): void {
    this.acked = Math.min(this.sent, this.acked + bytes);
    while (this.held.length > 0 && this.sent - this.acked < TRANSIT_BYTES) {
      const h = this.held.shift()!;
      this.heldBytes -= h.bytes.length;
      this.send(h.num, h.bytes, false);
      giveFrame(h.bytes);
    }
    this.flow.update();
  }

  /** A stale subscriber gets a fresh screen instead of what was held for it. */
  dropHeld(): void {
    for (const h of this.held) giveFrame(h.bytes);
    this.held = [];
    this.heldBytes = 0;
  }

  detach(): void {
    this.flow.remove(this);
  }

  deliver(msg: DataMessage): void {
    if (!this.started || this.resyncing) {
      // Output waiting for a snapshot is bounded: past the limit it is dropped and the next snapshot
      // (taken after it) covers it instead.
      if (this.bufferedBytes > MAX_BUFFERED_BYTES) {
        this.buffered = [];
        this.bufferedBytes = 0;
        this.overflowed = true;
      }
      // The bytes are a view of the host connection's read buffer: keep a copy.
      this.buffered.push({ ...msg, bytes: Buffer.from(msg.bytes) });
      this.bufferedBytes += msg.bytes.length;
      return;
    }
    if (this.stale) return;
    const end = msg.offset + msg.bytes.length;
    if (end <= this.startOffset) return;
    const bytes =
      msg.offset >= this.startOffset ? msg.bytes : msg.bytes.subarray(this.startOffset - msg.offset);
    const interactive = (msg.flags & 1) === 1;
    if (this.held.length > 0 || this.sent - this.acked >= TRANSIT_BYTES) this.hold(msg.num, bytes);
    else this.send(msg.num, bytes, interactive);
  }

  /** The bytes are a view of the host connection's read buffer: what waits is a (pooled) copy. */
  private hold(num: number, bytes: Uint8Array): void {
    const copy = takeFrame(bytes.length).subarray(0, bytes.length);
    copy.set(bytes);
    this.held.push({ num, bytes: copy });
    this.heldBytes += bytes.length;
  }

  private send(num: number, bytes: Uint8Array, interactive: boolean): void {
    this.sent += bytes.length;
    this.sink.data(num, bytes, interactive);
  }
}

export interface FlowControl {
  /** Output is only forwarded by the PTY host while someone watches (it always updates the screen). */
  watch(on: boolean): void;
  pause(): void;
  resume(): void;
  snapshot(): Promise<TermSnapshot & { offset: number }>;
}

export class TermFlow {
  private readonly subscribers = new Set<Subscriber>();
  private paused = false;

  constructor(private readonly control: FlowControl) {}

  add(sink: TermSink): Subscriber {
    const sub = new Subscriber(sink, this);
    this.subscribers.add(sub);
    if (this.subscribers.size === 1) this.control.watch(true);
    return sub;
  }

  remove(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    if (this.subscribers.size === 0) this.control.watch(false);
    this.update();
  }

  data(msg: DataMessage): void {
    for (const sub of this.subscribers) sub.deliver(msg);
    this.update();
  }

  /** Re-evaluates who lags, and whether the PTY must pause or may resume. */
  update(): void {
    const active = [...this.subscribers].filter((s) => !s.stale);
    const keepingUp = active.some((s) => s.inflight <= TERM_HIGH_WATERMARK);
    if (keepingUp) {
      for (const s of active) {
        if (!s.started || s.inflight <= TERM_HIGH_WATERMARK) continue;
        s.stale = true;
        s.dropHeld();
      }
    }
    for (const s of this.subscribers)
      if (s.stale && !s.resyncing && s.inflight < TERM_LOW_WATERMARK) this.resync(s);
    const stillActive = [...this.subscribers].filter((s) => !s.stale);
    if (
      !this.paused &&
      stillActive.length > 0 &&
      stillActive.every((s) => s.inflight > TERM_HIGH_WATERMARK)
    ) {
      this.paused = true;
      this.control.pause();
    } else if (
      this.paused &&
      (stillActive.length === 0 || stillActive.some((s) => s.inflight < TERM_LOW_WATERMARK))
    ) {
      this.paused = false;
      this.control.resume();
    }
  }

  private resync(sub: Subscriber): void {
    sub.resyncing = true;
    void this.control.snapshot().then(
      (snap) => {
        if (!this.subscribers.has(sub)) return;
        if (sub.overflowed) {
          sub.overflowed = false;
          sub.resyncing = false;
          this.resync(sub);
          return;
        }
        const { offset, ...snapshot } = snap;
        sub.resyncing = false;
        sub.stale = false;
        sub.sink.resync(snapshot);
        sub.start(offset);
      },
      () => {
        sub.resyncing = false;
      },
    );
  }
}
