import type { Channel, ClientFrame } from "../shared/protocol.ts";
import {
  TERM_ACK_MAX_BYTES,
  TERM_SKIPPING_ACK_BYTES,
  TermEventSchema,
  type TerminalKind,
  TermSnapshotSchema,
} from "../shared/terminals.ts";
import { joinTaken, WaitingOutput } from "../shared/waiting-output.ts";
import { PendingInput } from "./pending-input.ts";
import { type ChannelListener, type HiveSocket, SocketError } from "./socket.ts";
import { Store } from "./store.ts";

/**
 * One live terminal as the client sees it: `term:<id>` gives the serialized screen, then raw output
 * as binary frames; input, resize and acknowledgements go back over the same socket.
 */

/**
 * Acknowledge output in chunks of half the server's ack unit (one frame per chunk), or of the unit the
 * server expects while it skips for this terminal (see TERM_SKIPPING_TRANSIT_BYTES)…
 */
const ACK_CHUNK_BYTES = TERM_ACK_MAX_BYTES / 2;
/** …and whatever is left once output pauses, so the server's count of unacknowledged bytes drains. */
const ACK_IDLE_MS = 10;
/**
 * Output received but not yet written into xterm is acknowledged up to this much. The server's window
 * then covers only output still on its way, and xterm always has a queue to work through: fed one
 * message at a time, it ran dry between them and the page showed floods at half the speed it can.
 * What xterm holds stays bounded by this plus the server's high watermark.
 */
const READ_AHEAD_BYTES = 2 * 1024 * 1024;
/**
 * Output is handed to xterm one piece of at most this size at a time, each in a task of its own. Given
 * more, xterm parses for 12 ms at a stretch, and whatever arrives meanwhile (the echo of typing in
 * another terminal) waits behind it: during a flood that made echoes take 20-50 ms on the page.
 */
const WRITE_PIECE_BYTES = 32 * 1024;

/** Where a session writes: an xterm in the browser (or a bench's counter). */
export interface TerminalSink {
  /** Replace everything on screen with this serialized state, made at this size. */
  reset(screen: string, cols: number, rows: number): void;
  /** Write output; call `done` once it is on screen (flow control counts on it). */
  write(data: Uint8Array, done: () => void): void;
  /**
   * Lines of output that can still show (scrollback, screen and the cursor's line), and whether the
   * terminal's parser is at rest (see shared/waiting-output.ts). A sink that answers both is spared the
   * lines of a flood it could never show: they are dropped unparsed, with the colors they leave in force.
   */
  keepLines?(): number;
  atRest?(): boolean;
}

export type TerminalStatus = "attaching" | "live" | "exited" | "gone";

export interface TerminalSize {
  cols: number;
  rows: number;
}

const sameSize = (a: TerminalSize | undefined, b: TerminalSize | undefined): boolean =>
  a !== undefined && b !== undefined && a.cols === b.cols && a.rows === b.rows;

export class TerminalSession {
  readonly status = new Store<{ status: TerminalStatus; exitCode?: number | null; message?: string }>({
    status: "attaching",
  });
  /** Output bytes since the snapshot: received, written into xterm (or dropped unshowable), and acknowledged. */
  private received = 0;
  private written = 0;
  private acked = 0;
  /** Bumped by each snapshot: writes of an older screen finishing late must not count as acks. */
  private epoch = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private ackChunk = ACK_CHUNK_BYTES;
  /** Output received and not yet handed to xterm. */
  private waiting = unscanned(Number.POSITIVE_INFINITY);
  private writing = false;
  private offs: (() => void)[] = [];
  /** Typed while disconnected: delivered once the terminal's snapshot arrives again. */
  private readonly pending = new PendingInput();
  /**
   * A shell has one size, however many windows show it. Like tmux's `window-size latest`, it is the size
   * of the window last typed or focused in (or the one that opened it): a forgotten tab on a phone must
   * not shrink the terminal someone types in elsewhere. While another window sizes it, this one shows
   * the screen at that size, where output drawn for it shows right, and says so (`sizedElsewhere`).
   */
  readonly sizedElsewhere = new Store<TerminalSize | undefined>(undefined);
  private leading = true;
  /** This window's pane, fitted; the PTY's size as last heard; the size this window last wanted it at. */
  private fitted: TerminalSize | undefined;
  private ptySize: TerminalSize | undefined;
  private asked: TerminalSize | undefined;
  /** Sizes asked for and not yet heard back, oldest first (the server answers in order). */
  private asking: TerminalSize[] = [];

  constructor(
    protected readonly socket: HiveSocket,
    readonly termId: string,
    /** Where the screen and output come from: a shell's `term:` or a read-only one (a service's `svclog:`). */
    private readonly channel: Channel = `term:${termId}`,
  ) {
    // Only a live shell is sized by anyone.
    this.status.subscribe(() => this.showSizing());
  }

  /** Opens a new terminal in a cell (a shell unless `kind` says otherwise) and answers its id. */
  static async open(
    socket: HiveSocket,
    cellId: string,
    cols: number,
    rows: number,
    name?: string,
    kind?: TerminalKind,
  ): Promise<string> {
    const frame = await socket.request({
      type: "term.open",
      cellId,
      cols,
      rows,
      ...(name ? { name } : {}),
      ...(kind ? { kind } : {}),
    });
    if (frame.type !== "term.opened") throw new Error(`expected term.opened, got ${frame.type}`);
    return frame.termId;
  }

  attach(sink: TerminalSink): () => void {
    let offBinary: (() => void) | undefined;
    // A shell's server is told how many lines this terminal can still show, to skip the rest of a flood.
    let viewSent = 0;
    const view = (): ClientFrame | undefined => {
      const keepLines = sink.keepLines?.();
      if (keepLines === undefined || this.channel !== `term:${this.termId}`) return undefined;
      viewSent = keepLines;
      return { type: "term.view", termId: this.termId, keepLines };
    };
    const listener: ChannelListener = {
      snapshot: (state) => {
        const parsed = TermSnapshotSchema.safeParse(state);
        if (!parsed.success) return console.warn("hive: unexpected terminal snapshot", parsed.error);
        offBinary?.();
        // Output queued before the snapshot belongs to the old screen; the serialized one replaces it.
        this.received = this.written = this.acked = 0;
        // The server skips for this terminal once it has been told its view.
        this.ackChunk = viewSent > 0 ? TERM_SKIPPING_ACK_BYTES : ACK_CHUNK_BYTES;
        const epoch = ++this.epoch;
        sink.reset(parsed.data.screen, parsed.data.cols, parsed.data.rows);
        this.waiting = unscanned(sink.keepLines?.() ?? Number.POSITIVE_INFINITY);
        this.writing = false;
        offBinary = this.socket.onBinary(parsed.data.numericId, (bytes) => {
          this.received += bytes.length;
          // A resize may let more lines show; keeping more than needed is only less skipping.
          if (sink.keepLines) {
            this.waiting.keepLines = Math.max(this.waiting.keepLines, sink.keepLines());
            const frame = this.waiting.keepLines > viewSent ? view() : undefined;
            if (frame) this.socket.send(frame);
          }
          this.written += this.waiting.push(bytes);
          this.ack();
          if (!this.writing) this.writeNext(sink, epoch);
        });
        const { exitCode, signal } = parsed.data;
        const exited = exitCode !== null || signal !== null;
        this.status.set(exited ? { status: "exited", exitCode } : { status: "live" });
        // Still this window's size, unless another window resized the shell while this one was away.
        this.asking = [];
        this.heardSize(parsed.data, this.leading && (!this.asked || sameSize(parsed.data, this.asked)));
        if (exited) this.pending.discard("the shell has exited");
        this.deliverPending();
      },
      event: (event) => {
        const parsed = TermEventSchema.safeParse(event);
        if (!parsed.success) return;
        if (parsed.data.type === "exit")
          this.status.set({ status: "exited", exitCode: parsed.data.exitCode });
        if (parsed.data.type === "closed") this.status.set({ status: "gone", message: "closed" });
        if (parsed.data.type === "size.free" && !this.leading) this.claimSize();
        if (parsed.data.type === "resized") {
          // Resizes come back in the order the server made them: while one of this window's is still
          // to come, it is the last word; otherwise one this window did not ask for is another's.
          const ours = sameSize(parsed.data, this.asking[0]);
          if (ours) this.asking.shift();
          this.heardSize(parsed.data, ours || this.asking.length > 0);
        }
      },
      error: (code, message) => {
        this.pending.discard("the terminal is gone");
        this.status.set({ status: "gone", message: `${code}: ${message}` });
      },
    };
    const offChannel = this.socket.subscribe(this.channel, listener, view);
    const off = () => {
      offChannel();
      offBinary?.();
      clearTimeout(this.ackTimer);
      this.waiting = unscanned(Number.POSITIVE_INFINITY);
      this.epoch++;
    };
    this.offs.push(off);
    return off;
  }

  /** Writes the next piece of output into xterm; the one after it waits for a task of its own. */
  private writeNext(sink: TerminalSink, epoch: number): void {
    if (epoch !== this.epoch) return; // a snapshot came in between: its own writes have taken over
    const piece = this.waiting.takePiece(WRITE_PIECE_BYTES);
    this.writing = piece.bytes > 0 || !!piece.skipped;
    if (!this.writing) return;
    sink.write(joinTaken(piece), () => {
      if (epoch !== this.epoch) return;
      this.written += piece.bytes;
      // Where the piece leaves the parser at rest, what waits behind it can be scanned for lines to skip.
      if (sink.atRest?.()) this.written += this.waiting.markClean(piece.generation);
      this.ack();
      nextTask(() => this.writeNext(sink, epoch));
    });
  }

  /** Sends keystrokes; while the socket is down they wait (see PendingInput) and the pane says so. */
  input(data: string): void {
    if (this.pending.empty && this.socket.send({ type: "term.input", termId: this.termId, data })) {
      if (this.status.value.message && this.status.value.status === "live")
        this.status.set({ status: "live" });
      return;
    }
    const queued = this.pending.push(data);
    this.status.set({
      ...this.status.value,
      message: queued
        ? `Not connected: ${this.pending.chars} typed character(s) will be sent when the connection is back.`
        : "Not connected: what you typed is too much to replay and will not be sent.",
    });
  }

  /** After a resubscribe: what waited goes out in order, or the person learns it was not sent. */
  private deliverPending(): void {
    const taken = this.pending.take();
    if (!taken) return;
    if ("data" in taken) {
      if (this.socket.send({ type: "term.input", termId: this.termId, data: taken.data })) return;
      this.pending.push(taken.data); // lost the socket again at once: keep waiting
      return;
    }
    this.status.set({
      ...this.status.value,
      message: `${taken.dropped} typed character(s) were not sent: ${taken.reason}.`,
    });
  }

  /**
   * This window's pane would show `cols`×`rows`. Answers the size to give its xterm: that one while this
   * window sizes the shell, the shell's own while another window does.
   */
  fit(cols: number, rows: number): TerminalSize {
    this.fitted = { cols, rows };
    if (this.leading) this.askSize();
    this.showSizing();
    return this.sizedElsewhere.value ?? this.fitted;
  }

  /**
   * Someone typed or focused in this window: the shell takes its size. (Not any input: a terminal's
   * answers to a program's queries come from every window showing it.)
   */
  claimSize(): void {
    if (this.leading && sameSize(this.fitted, this.ptySize)) return;
    this.leading = true;
    this.askSize();
    this.showSizing();
  }

  private askSize(): void {
    // Only a live shell has a PTY to resize (an exited one's screen is only shown). A terminal still
    // attaching is fitted again once its screen arrives.
    const size = this.fitted;
    if (!size || this.status.value.status !== "live") return;
    this.asked = size;
    if (sameSize(size, this.asking.at(-1) ?? this.ptySize)) return;
    if (this.socket.send({ type: "term.resize", termId: this.termId, ...size })) this.asking.push(size);
  }

  private heardSize(size: TerminalSize, ours: boolean): void {
    this.ptySize = { cols: size.cols, rows: size.rows };
    this.leading = ours;
    this.showSizing();
  }

  private showSizing(): void {
    const elsewhere =
      !this.leading && this.status.value.status === "live" && !sameSize(this.ptySize, this.fitted)
        ? this.ptySize
        : undefined;
    if (!sameSize(elsewhere, this.sizedElsewhere.value) && (elsewhere || this.sizedElsewhere.value))
      this.sizedElsewhere.set(elsewhere);
  }

  /**
   * Ends the shell on the server. Unless `force`, a shell running a program in the foreground stays,
   * and what the server said of it comes back (for the person to confirm); other failures throw.
   */
  async close(force = false): Promise<{ busy: string } | undefined> {
    try {
      await this.socket.request({ type: "term.close", termId: this.termId, ...(force ? { force } : {}) });
    } catch (err) {
      if (err instanceof SocketError && err.code === "TERMINAL_BUSY") return { busy: err.message };
      // Already gone: nothing left to end.
      if (!(err instanceof SocketError && err.code === "TERMINAL_CLOSED")) throw err;
    }
    this.dispose();
    return undefined;
  }

  dispose(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }

  private ack(): void {
    const due = Math.min(this.received, this.written + READ_AHEAD_BYTES) - this.acked;
    if (due <= 0) return;
    clearTimeout(this.ackTimer);
    if (due >= this.ackChunk) this.flushAck();
    else this.ackTimer = setTimeout(() => this.flushAck(), ACK_IDLE_MS);
  }

  private flushAck(): void {
    const due = Math.min(this.received, this.written + READ_AHEAD_BYTES) - this.acked;
    if (due <= 0) return;
    this.socket.send({ type: "term.ack", termId: this.termId, bytes: due });
    this.acked += due;
  }
}

/**
 * Output of a fresh screen, or of one given up: where the parser stands when it starts is not known
 * (a snapshot ends wherever the PTY host's screen had got to), so it is scanned only once a piece of it
 * has been written and the terminal says its parser is at rest.
 */
function unscanned(keepLines: number): WaitingOutput {
  return new WaitingOutput(keepLines, undefined, false);
}

const queuedTasks: (() => void)[] = [];
let taskChannel: MessageChannel | undefined;

/**
 * Runs `fn` in a new task, behind what is already queued (a socket message, a frame to render) and
 * without the 4 ms by which nested timers are held back.
 */
function nextTask(fn: () => void): void {
  if (!taskChannel) {
    taskChannel = new MessageChannel();
    taskChannel.port1.onmessage = () => queuedTasks.shift()?.();
  }
  queuedTasks.push(fn);
  taskChannel.port2.postMessage(null);
}
