import { type RestState, RestTracker } from "../../shared/rest-tracker.ts";
import {
  TERM_HIGH_WATERMARK,
  TERM_LOW_WATERMARK,
  TERM_SKIPPING_TRANSIT_BYTES,
  type TermSnapshot,
} from "../../shared/terminals.ts";
import { joinTaken, WaitingOutput } from "../../shared/waiting-output.ts";
import { giveFrame, isPooled, takeFrame } from "./frame-pool.ts";
import type { DataMessage } from "./host/wire.ts";

/**
 * Fan-out and flow control of one terminal's output to its subscribers (browser tabs). Each
 * subscriber's unacknowledged bytes are counted; when every subscriber is past the high watermark the
 * PTY is paused (the shell blocks, nothing queues), and it resumes once one is back under the low
 * watermark. A subscriber that lags while another keeps up is not allowed to hold the terminal back:
 * it stops getting output and, once it has caught up, is resynced with a fresh screen. Acks are bytes,
 * not batches, and the high watermark is well above the client's ack unit, so there is always
 * something in flight whose ack resumes the PTY: no deadlock.
 *
 * A subscriber that says how many lines its terminal can still show (`term.view`) is spared the lines of
 * a flood it could never show: its output waiting here is a WaitingOutput, which drops the plain lines
 * that later output would push out of the history anyway, and a RestTracker following what was sent
 * tells it where the output is at rest. The PTY then runs at full speed while the tab reads, and the tab
 * gets the end of the flood instead of all of it.
 */

/** Output held for one subscriber while its snapshot is being taken. */
const MAX_BUFFERED_BYTES = 4 * TERM_HIGH_WATERMARK;
/**
 * At most this much of a subscriber's output is on its way (in socket buffers, in the browser) at a time;
 * the rest of its window waits here. Output on its way is ahead of everything else on that socket, such
 * as the echo of a keystroke in another terminal, and the kernel would otherwise take megabytes of it.
 * A subscriber that skips gets far less while what waits for it can be skipped (TERM_SKIPPING_TRANSIT_BYTES).
 */
const TRANSIT_BYTES = 512 * 1024;
/** Waiting output is sent on in pieces of at most this size, and at least this (or all that waits). */
const PIECE_BYTES = 128 * 1024;
const MIN_PIECE_BYTES = 16 * 1024;
/**
 * Output waiting for a subscriber that skips counts against the watermarks only past this much: its
 * lines are dropped as they pile up, so it stays about as large as the history it replaces, unless the
 * output cannot be skipped (a full-screen program's) or the lines are very long.
 */
const SKIPPING_WAIT_BYTES = 8 * 1024 * 1024;
/** Output that starts to wait is sent up to the end of a sequence it starts inside, if that is this near. */
const SEQUENCE_END_BYTES = 256;
/**
 * A subscriber that skips and has not acknowledged anything for this long is taken to have stopped
 * reading: its waiting output counts in full, and pauses the PTY, instead of a flood running on for it.
 */
const STALLED_MS = 1000;

export interface TermSink {
  /**
   * Output to forward as a binary frame; `interactive` output may go ahead of bulk. The bytes may be a
   * view of a reused read buffer: valid only during the call.
   */
  data(numericId: number, bytes: Uint8Array, interactive: boolean): void;
  /** A fresh screen replaces the backlog this subscriber missed while it lagged. */
  resync(snapshot: TermSnapshot): void;
}

/** Where a snapshot left a terminal's output: its offset in the stream, rest state, and screen rows. */
export interface StreamPoint {
  offset: number;
  rest: RestState;
  rows: number;
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
  /** Lines the subscriber's terminal can still show, if it said (see `term.view`). */
  private keepLines: number | undefined;
  /** Follows the output sent since the snapshot, while this subscriber skips. */
  private tracker: RestTracker | undefined;
  /** Output past TRANSIT_BYTES, waiting for acks (in order): copies in pooled slabs. */
  private held = this.newHeld(false);
  /** For each pooled slab in `held`: where its output ends (it goes back once that byte is sent or dropped). */
  private readonly slabEnds = new Map<ArrayBufferLike, number>();
  private num = 0;
  private lastAckAt = 0;

  constructor(
    readonly sink: TermSink,
    private readonly flow: TermFlow,
  ) {}

  /** Bytes counted against the watermarks. */
  get inflight(): number {
    const unacked = this.sent - this.acked + this.bufferedBytes;
    if (!this.tracker) return unacked + this.held.size;
    // A tab that skips holds the PTY back only when its waiting output grows large, or once it has stopped
    // reading (then a flood would run on for nobody).
    const stalled = this.sent > this.acked && performance.now() - this.lastAckAt >= STALLED_MS;
    if (stalled) return Math.max(unacked + this.held.size, TERM_HIGH_WATERMARK + 1);
    return unacked + Math.max(0, this.held.size - SKIPPING_WAIT_BYTES);
  }

  /** Output waiting for acks (for tests and the memory bound). */
  get heldBytes(): number {
    return this.held.size;
  }

  /** Takes effect from the next snapshot on: skipping starts where the output's state is known. */
  setKeepLines(lines: number): void {
    this.keepLines = lines;
    if (this.tracker) this.held.keepLines = Math.max(this.held.keepLines, lines);
  }

  /** The terminal's screen was resized: a scroll region's extent depends on it. */
  resized(rows: number): void {
    this.tracker?.resize(rows);
  }

  /** Called once the subscriber has been sent the snapshot taken at `at`. */
  start(at: StreamPoint): void {
    this.startOffset = at.offset;
    this.started = true;
    this.sent = this.acked = 0;
    this.lastAckAt = performance.now();
    this.tracker = this.keepLines === undefined ? undefined : new RestTracker(at.rest, at.rows);
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

  /** Someone typed in another terminal of this subscriber's window: see TermFlow.yieldToTyping. */
  yieldToTyping(): void {
    this.flow.yieldToTyping();
  }

  ack(bytes: number): void {
    this.acked = Math.min(this.sent, this.acked + bytes);
    this.lastAckAt = performance.now();
    this.sendHeld();
    this.flow.update();
  }

  /** A stale subscriber gets a fresh screen instead of what was held for it. */
  dropHeld(): void {
    for (const chunk of this.held.take().chunks) this.release(chunk);
    this.held = this.newHeld(false);
  }

  detach(): void {
    this.dropHeld();
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
    this.num = msg.num;
    const interactive = (msg.flags & 1) === 1;
    const room = this.held.size > 0 ? 0 : this.room();
    if (room <= 0) this.hold(bytes);
    // A subscriber that does not skip takes whole frames past its window: cutting them cost a reader that
    // keeps up 2-18% of its throughput (bench/terminal-throughput, four alternated pairs).
    else if (room >= bytes.length || !this.tracker) this.send(bytes, interactive);
    else {
      // What does not fit waits, so the small window holds even against the host's largest frames.
      this.send(bytes.subarray(0, room), interactive);
      this.hold(bytes.subarray(room));
    }
  }

  /** The bytes are a view of the host connection's read buffer: what waits is a (pooled) copy. */
  private hold(bytes: Uint8Array): void {
    // Output that starts to wait starts where what was sent ends: there the tracker knows if it is at rest.
    if (this.held.size === 0) {
      // What was sent may end inside a sequence (output comes in frames cut anywhere): its end goes out
      // at once, so that what waits starts at rest and can be skipped.
      const end = this.tracker?.restPoint(bytes, SEQUENCE_END_BYTES) ?? 0;
      if (end > 0) {
        this.send(bytes.subarray(0, end), false);
        bytes = bytes.subarray(end);
        if (bytes.length === 0) return;
      }
      this.held = this.newHeld(this.tracker?.atRest ?? false);
    }
    const copy = takeFrame(bytes.length).subarray(0, bytes.length);
    copy.set(bytes);
    if (isPooled(copy)) this.slabEnds.set(copy.buffer, copy.byteOffset + copy.length);
    this.held.push(copy);
    this.sendHeld();
  }

  /** Sends waiting output while the transit window has room, in pieces cut where the output is at rest. */
  private sendHeld(): void {
    for (;;) {
      const room = this.room();
      // A piece too small for the next line or sequence would be cut inside it, and what waits behind it
      // could no longer be skipped: unless all that waits fits, the window must have room for some size.
      if (this.held.size === 0 || room < Math.min(MIN_PIECE_BYTES, this.held.size)) return;
      const piece = this.held.takePiece(Math.min(room, PIECE_BYTES));
      if (piece.bytes === 0 && !piece.skipped) return; // only the start of a sequence waits
      const bytes = joinTaken(piece, (size) => takeFrame(size).subarray(0, size));
      this.send(bytes, false);
      // Where the piece leaves the output at rest, what waits behind it can be scanned for lines to skip.
      if (this.tracker?.atRest) this.held.markClean(piece.generation);
      if (bytes !== piece.chunks[0]) giveFrame(bytes);
      for (const chunk of piece.chunks) this.release(chunk);
    }
  }

  /**
   * How much may be on its way. A browser tab busy with a flood takes in what is on its way one message
   * per task, between its parsing and its frames, so each 128 KB ahead of an echo cost it about a frame:
   * with 512 KB on the way, a keystroke in another terminal echoed within 50 ms in 31 of 61 tries, with
   * 64 KB in 50 of 65 (bench/browser-terminal, alternated runs), and the flood ended no later. Output
   * that cannot be skipped (a full-screen program's) gets the whole window, or it would crawl over a slow
   * link.
   */
  private transitBytes(): number {
    return this.tracker && (this.held.size === 0 || this.held.skippable)
      ? TERM_SKIPPING_TRANSIT_BYTES
      : TRANSIT_BYTES;
  }

  /** What the transit window has room for now (negative once a whole frame went past it). */
  private room(): number {
    return this.transitBytes() - (this.sent - this.acked);
  }

  private send(bytes: Uint8Array, interactive: boolean): void {
    // With nothing unacknowledged, the wait for an ack starts now.
    if (this.sent === this.acked) this.lastAckAt = performance.now();
    this.sent += bytes.length;
    this.tracker?.feed(bytes);
    this.sink.data(this.num, bytes, interactive);
  }

  private newHeld(atRest: boolean): WaitingOutput {
    const keep = this.tracker ? (this.keepLines ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    return new WaitingOutput(keep, (chunk) => this.release(chunk), atRest && this.tracker !== undefined);
  }

  /** A slab goes back to the pool once the last of its output has been sent or dropped. */
  private release(chunk: Uint8Array): void {
    const end = this.slabEnds.get(chunk.buffer);
    if (end === undefined || chunk.byteOffset + chunk.length !== end) return;
    this.slabEnds.delete(chunk.buffer);
    giveFrame(chunk);
  }
}

export interface FlowControl {
  /** Output is only forwarded by the PTY host while someone watches (it always updates the screen). */
  watch(on: boolean): void;
  pause(): void;
  resume(): void;
  snapshot(): Promise<TermSnapshot & { offset: number; rest: RestState }>;
}

/**
 * A terminal whose output flows is held back this long after a keystroke in another terminal of the same
 * window: on two cores the flood's shell, PTY host, server and page otherwise stand between the keystroke
 * and its echo. In bench/browser-terminal, echoes within 50 ms went from 82-91% (three runs) to 90-95%
 * (four), the flood still as fast as local xterm.js (ratio 0.90-1.30). 60 ms did no better on the echo
 * and once cost the flood a ratio of 0.77. Under bench/echo-latency's nonstop typing the flood beside it
 * ran at 23 MB/s instead of 36-41, and the echo's p99 under it was 6.0 ms instead of 7.1-8.1.
 */
export const TYPING_HOLD_MS = 30;
/**
 * A hold starts at most this often, whatever the typing: a key held down must not stop the flood (it keeps
 * at least 70% of its time).
 */
export const TYPING_HOLD_EVERY_MS = 100;
/** Output this recent makes a terminal one that flows. */
const FLOWING_MS = 250;

export class TermFlow {
  private readonly subscribers = new Set<Subscriber>();
  /** Paused for the watermarks (every subscriber is behind). */
  private paused = false;
  /** Held back while someone types in another terminal (see TYPING_HOLD_MS). */
  private holdTimer: NodeJS.Timeout | undefined;
  /** What the PTY was last told: paused for either reason. */
  private controlPaused = false;
  private lastOutputAt = Number.NEGATIVE_INFINITY;
  private lastHoldAt = Number.NEGATIVE_INFINITY;

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
    this.lastOutputAt = performance.now();
    for (const sub of this.subscribers) sub.deliver(msg);
    this.update();
  }

  /** Holds the PTY back for TYPING_HOLD_MS if its output flows (an idle shell is left alone). */
  yieldToTyping(): void {
    const now = performance.now();
    if (now - this.lastOutputAt > FLOWING_MS || now - this.lastHoldAt < TYPING_HOLD_EVERY_MS) return;
    this.lastHoldAt = now;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.apply();
    }, TYPING_HOLD_MS);
    this.apply();
  }

  resized(rows: number): void {
    for (const sub of this.subscribers) sub.resized(rows);
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
    } else if (
      this.paused &&
      (stillActive.length === 0 || stillActive.some((s) => s.inflight < TERM_LOW_WATERMARK))
    ) {
      this.paused = false;
    }
    this.apply();
  }

  private apply(): void {
    const pause = this.paused || this.holdTimer !== undefined;
    if (pause === this.controlPaused) return;
    this.controlPaused = pause;
    if (pause) this.control.pause();
    else this.control.resume();
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
        const { offset, rest, ...snapshot } = snap;
        sub.resyncing = false;
        sub.stale = false;
        sub.sink.resync(snapshot);
        sub.start({ offset, rest, rows: snapshot.rows });
      },
      () => {
        sub.resyncing = false;
      },
    );
  }
}
