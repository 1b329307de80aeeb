import {
  BINARY_KIND,
  type Channel,
  CLOSE_CODES,
  type ClientFrame,
  decodeBinaryFrame,
  type ServerFrame,
  ServerFrameSchema,
} from "../shared/protocol.ts";
import { Store } from "./store.ts";

/**
 * The one WebSocket of this tab. It owns connecting, reconnecting with back-off and resubscribing
 * every channel with the last sequence number it saw, so stores only say what they want to hear.
 */

export type ConnectionState =
  | { kind: "connecting"; attempt: number }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; retryAt: number; reason: string }
  | { kind: "unauthorized" };

export interface ChannelListener {
  /** A full state: after subscribing, or when the server could not replay what was missed. */
  snapshot(state: unknown, seq: number): void;
  event(event: unknown, seq: number): void;
  /** The server refused the subscription (unknown channel, not found ...). */
  error?(code: string, message: string): void;
}

/** Back-off: quick first retries (a server restart takes a moment), capped so a long outage is retried often. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 8_000;
/**
 * A socket that answers no ping for this long is dead even if the browser has not noticed (a laptop
 * that slept, a proxy that dropped it). Generous: a busy server is slow, not gone.
 */
const PING_EVERY_MS = 10_000;
const PONG_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 15_000;

interface ChannelEntry {
  listeners: Set<ChannelListener>;
  /** Ref of the last subscribe frame, so an error frame answering it reaches the listeners. */
  ref: string;
  /** Last sequence number delivered; resubscribe asks for what came after it. */
  seq: number | undefined;
  /** A frame that goes just before each subscribe frame, on every connection (see `subscribe`). */
  prelude?: () => ClientFrame | undefined;
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class SocketError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SocketError";
  }
}

export class HiveSocket {
  readonly state = new Store<ConnectionState>({ kind: "connecting", attempt: 0 });
  private ws: WebSocket | undefined;
  private readonly channels = new Map<Channel, ChannelEntry>();
  private readonly binary = new Map<number, (payload: Uint8Array) => void>();
  private readonly pending = new Map<string, Pending>();
  private nextRef = 1;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pongDeadline: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  private readonly pingEveryMs: number;
  private readonly pongTimeoutMs: number;

  constructor(
    private readonly url: string = defaultUrl(),
    timing: { pingEveryMs?: number; pongTimeoutMs?: number } = {},
  ) {
    this.pingEveryMs = timing.pingEveryMs ?? PING_EVERY_MS;
    this.pongTimeoutMs = timing.pongTimeoutMs ?? PONG_TIMEOUT_MS;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    this.ws?.close(1000, "client stopped");
  }

  /** Reconnects now instead of waiting for the back-off timer (the banner's "retry now"). */
  retryNow(): void {
    if (this.state.value.kind === "open") return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /**
   * Listens to a channel; the first listener subscribes, the last one to leave unsubscribes. `prelude`
   * gives a frame to send just before each subscribe frame, on this connection and on every one after a
   * reconnect (what the server should know before it answers, such as a terminal's view).
   */
  subscribe(
    channel: Channel,
    listener: ChannelListener,
    prelude?: () => ClientFrame | undefined,
  ): () => void {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { listeners: new Set(), seq: undefined, ref: "" };
      this.channels.set(channel, entry);
    }
    entry.prelude ??= prelude;
    entry.listeners.add(listener);
    // A late listener needs a snapshot of its own: ask again and every listener gets a fresh state.
    this.sendSubscribe(channel, entry, false);
    return () => {
      const e = this.channels.get(channel);
      if (!e) return;
      e.listeners.delete(listener);
      if (e.listeners.size === 0) {
        this.channels.delete(channel);
        this.send({ type: "unsubscribe", channel });
      }
    };
  }

  /** Routes binary output carrying this numeric channel id (announced in a term channel's snapshot). */
  onBinary(numericId: number, handler: (payload: Uint8Array) => void): () => void {
    this.binary.set(numericId, handler);
    return () => {
      if (this.binary.get(numericId) === handler) this.binary.delete(numericId);
    };
  }

  /** Sends a frame if connected. Frames sent while disconnected are dropped: state is resynced on reconnect. */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a frame with a ref and resolves with the server's answer to it (or rejects with its error frame). */
  request(frame: ClientFrame & { ref?: string }): Promise<ServerFrame> {
    const ref = `r${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(
          new SocketError("TIMEOUT", `no answer to ${frame.type} within ${REQUEST_TIMEOUT_MS / 1000} s`),
        );
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
      if (!this.send({ ...frame, ref } as ClientFrame)) {
        clearTimeout(timer);
        this.pending.delete(ref);
        reject(
          new SocketError("DISCONNECTED", "not connected to Hive; try again when the connection is back"),
        );
      }
    });
  }

  private sendSubscribe(channel: Channel, entry: ChannelEntry, resume: boolean): void {
    const prelude = entry.prelude?.();
    if (prelude) this.send(prelude);
    entry.ref = `s${this.nextRef++}`;
    const since = resume ? entry.seq : undefined;
    this.send(
      since === undefined
        ? { type: "subscribe", channel, ref: entry.ref }
        : { type: "subscribe", channel, since, ref: entry.ref },
    );
  }

  private connect(): void {
    if (this.stopped) return;
    this.ws?.close();
    this.state.set({ kind: "connecting", attempt: this.attempt });
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.state.set({ kind: "open" });
      for (const [channel, entry] of this.channels) this.sendSubscribe(channel, entry, true);
      this.startHeartbeat();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      if (ev.data instanceof ArrayBuffer) this.onBinaryFrame(new Uint8Array(ev.data));
      else this.onTextFrame(String(ev.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      if (ev.code === CLOSE_CODES.unauthorized || ev.code === CLOSE_CODES.sessionRevoked) {
        this.drop(undefined);
        this.state.set({ kind: "unauthorized" });
        return;
      }
      this.drop(ev.reason || closeReason(ev.code));
    };
  }

  /** Forgets the current socket (closing it if still open) and, given a reason, schedules the next one. */
  private drop(reconnectReason: string | undefined): void {
    const ws = this.ws;
    this.ws = undefined;
    // A socket that stopped answering may never finish a close handshake: it is simply left behind.
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.close(4000, "replaced");
    this.stopHeartbeat();
    this.failPending(new SocketError("DISCONNECTED", "the connection to Hive was lost"));
    if (!this.stopped && reconnectReason !== undefined) this.scheduleReconnect(reconnectReason);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt++;
    const delay =
      Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.attempt - 1)) * (0.75 + Math.random() * 0.5);
    this.state.set({ kind: "reconnecting", attempt: this.attempt, retryAt: Date.now() + delay, reason });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private onTextFrame(text: string): void {
    let frame: ServerFrame;
    try {
      frame = ServerFrameSchema.parse(JSON.parse(text));
    } catch (err) {
      console.warn("hive: ignoring a frame that does not match the protocol", err);
      return;
    }
    switch (frame.type) {
      case "snapshot":
      case "event": {
        const entry = this.channels.get(frame.channel);
        if (!entry) return;
        entry.seq = frame.seq;
        for (const l of [...entry.listeners]) {
          if (frame.type === "snapshot") l.snapshot(frame.state, frame.seq);
          else l.event(frame.event, frame.seq);
        }
        return;
      }
      case "pong":
        clearTimeout(this.pongDeadline);
        this.pongDeadline = undefined;
        return;
      default: {
        const p = frame.ref ? this.pending.get(frame.ref) : undefined;
        if (p && frame.ref) {
          this.pending.delete(frame.ref);
          clearTimeout(p.timer);
          if (frame.type === "error") p.reject(new SocketError(frame.code, frame.message));
          else p.resolve(frame);
        } else if (frame.type === "error") {
          const entry = [...this.channels.values()].find((e) => e.ref === frame.ref);
          if (entry) for (const l of [...entry.listeners]) l.error?.(frame.code, frame.message);
          else console.warn(`hive: server error ${frame.code}: ${frame.message}`);
        }
      }
    }
  }

  private onBinaryFrame(buf: Uint8Array): void {
    const { kind, numericId, payload } = decodeBinaryFrame(buf);
    if (kind === BINARY_KIND.termData) this.binary.get(numericId)?.(payload);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: "ping", t: Date.now() })) return;
      // The deadline runs from the oldest unanswered ping; later pings do not push it back.
      this.pongDeadline ??= setTimeout(() => this.drop("no answer to ping"), this.pongTimeoutMs);
    }, this.pingEveryMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongDeadline);
    this.pongDeadline = undefined;
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function defaultUrl(): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

function closeReason(code: number): string {
  if (code === CLOSE_CODES.serverRestart) return "Hive is restarting";
  if (code === 1006) return "the connection dropped";
  return `closed (${code})`;
}
