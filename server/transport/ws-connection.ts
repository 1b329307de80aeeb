import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import {
  CLOSE_CODES,
  encodeTermData,
  type ServerFrame,
  TERM_DATA_HEADER_BYTES,
} from "../../shared/protocol.ts";
import { giveFrame, takeFrame } from "../terminals/frame-pool.ts";

/**
 * One browser tab's socket, outbound side. Frames wait in two lanes: interactive (control frames,
 * keystroke echo) and bulk (terminal floods, snapshots); a frame is handed to `ws` only while less than
 * SEND_WINDOW_BYTES is buffered there, so an interactive frame never queues behind more than that.
 * Frames of one channel keep their order: once a channel has frames in the bulk lane, its next frames
 * follow them there.
 */

/** How much may sit in ws's own buffer; everything else waits in the lanes, where it can be reordered. */
const SEND_WINDOW_BYTES = 64 * 1024;
/**
 * Most a socket may have queued. Terminal output is bounded by its own flow control (a few hundred KB
 * per terminal), so reaching this means a tab that does not read at all: it is closed and reconnects.
 */
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;

type Frame = {
  data: string | Uint8Array;
  channel: string | undefined;
  bytes: number;
  /** The data is a pooled buffer, handed back once ws has written it. */
  pooled?: boolean;
};

export interface ConnectionMeta {
  /** The sign-in session the socket was opened with (to close it when the session is revoked). */
  sessionId?: string;
}

export class Connection {
  private readonly urgent: Frame[] = [];
  private readonly bulk: Frame[] = [];
  private readonly inBulk = new Map<string, number>();
  private queued = 0;
  private closed = false;
  private corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly req: IncomingMessage,
    readonly meta: ConnectionMeta,
  ) {
    ws.on("close", () => {
      this.closed = true;
      this.urgent.length = this.bulk.length = 0;
      this.inBulk.clear();
      this.queued = 0;
    });
  }

  /** Bytes waiting in the lanes and in ws (for tests and for the memory bound). */
  get backlog(): number {
    return this.queued + this.ws.bufferedAmount;
  }

  /** `coalesce`: the frame may leave in one write with the others of this tick (a burst of small events). */
  send(frame: ServerFrame, opts: { channel?: string; bulk?: boolean; coalesce?: boolean } = {}): void {
    if (opts.coalesce) this.coalesceTick();
    const data = JSON.stringify(frame);
    this.enqueue({ data, channel: opts.channel, bytes: data.length }, opts.bulk ?? false);
  }

  sendTermData(numericId: number, bytes: Uint8Array, interactive: boolean, channel: string): void {
    const size = TERM_DATA_HEADER_BYTES + bytes.length;
    const data = encodeTermData(numericId, bytes, takeFrame(size));
    this.enqueue({ data, channel, bytes: size, pooled: true }, !interactive);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // A close reason is limited to 123 bytes.
    this.ws.close(code, reason.slice(0, 120));
  }

  private enqueue(frame: Frame, bulk: boolean): void {
    if (this.closed) return;
    const ch = frame.channel;
    if (bulk || (ch !== undefined && (this.inBulk.get(ch) ?? 0) > 0)) {
      this.bulk.push(frame);
      if (ch !== undefined) this.inBulk.set(ch, (this.inBulk.get(ch) ?? 0) + 1);
    } else this.urgent.push(frame);
    this.queued += frame.bytes;
    if (this.queued > MAX_QUEUED_BYTES) {
      this.close(
        CLOSE_CODES.tooSlow,
        `more than ${MAX_QUEUED_BYTES >> 20} MB waited for this socket; reconnect`,
      );
      return;
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.ws.bufferedAmount < SEND_WINDOW_BYTES) {
      let frame = this.urgent.shift();
      if (!frame) {
        frame = this.bulk.shift();
        if (!frame) return;
        const ch = frame.channel;
        if (ch !== undefined) {
          const n = this.inBulk.get(ch) ?? 1;
          if (n <= 1) this.inBulk.delete(ch);
          else this.inBulk.set(ch, n - 1);
        }
      }
      this.queued -= frame.bytes;
      const data = frame.data;
      const sent = frame.pooled
        ? () => {
            giveFrame(data as Uint8Array);
            this.onSent();
          }
        : this.onSent;
      this.ws.send(data, { binary: typeof data !== "string" }, sent);
    }
  }

  /**
   * Holds the socket's writes until the end of this tick, so that a burst of small frames (OpenCode hands
   * over streamed tokens in bunches after any stall) costs one system call instead of one each, which was
   * most of Hive's time per token (bench/agent-stream). ws keeps its socket private, hence the cast.
   */
  private coalesceTick(): void {
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (this.corked || this.closed || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** ws calls back once a frame is written out: room for the next ones. */
  private readonly onSent = (): void => {
    if (this.urgent.length > 0 || this.bulk.length > 0) this.pump();
  };
}
