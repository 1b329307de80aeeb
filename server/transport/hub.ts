import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { HiveError, readableIssues } from "../../shared/errors.ts";
import {
  CHANNEL_KINDS,
  type Channel,
  type ChannelKind,
  CLOSE_CODES,
  type ClientFrame,
  ClientFrameSchema,
  MAX_CLIENT_FRAME_BYTES,
  parseChannel,
} from "../../shared/protocol.ts";
import { Connection, type ConnectionMeta } from "./ws-connection.ts";

/**
 * The socket hub: one WebSocket per tab, many channels. Every channel is snapshot-then-events: a
 * subscriber gets the provider's snapshot with the channel's sequence number, then each published
 * event with the next one. Resubscribing with `since` replays exactly the missed events from a bounded
 * buffer, or sends a fresh snapshot when they are gone (or the server restarted: sequence numbers start
 * from the start time, so an old `since` never matches new events).
 *
 * Adding a channel: `hub.registerProvider("files", { snapshot: (cellId) => ... })`, then
 * `hub.publish("files:<cellId>", event)` whenever it changes. Commands other than subscribe go to
 * handlers: `hub.registerHandler("term.open", (frame, conn) => ...)`.
 */

/** A subscriber's handle, for providers that keep per-subscriber state (terminals). */
export interface ChannelSubscription {
  readonly channel: Channel;
  readonly conn: Connection;
  /** Runs once the snapshot frame is queued on the socket; later frames of the channel follow it. */
  onSnapshotSent(fn: () => void): void;
  /** Runs when the subscription ends: unsubscribe, a new subscribe to the channel, or the socket closed. */
  onEnd(fn: () => void): void;
  /** Sends this subscriber a fresh snapshot (it lagged, and a snapshot replaces what it missed). */
  resnapshot(state: unknown): void;
}

export interface ChannelProvider {
  /** The channel's current state. Throw HiveError("NOT_FOUND", ...) for an id that does not exist. */
  snapshot(id: string, sub: ChannelSubscription): unknown | Promise<unknown>;
  /** false when events alone cannot catch a subscriber up (terminal output): always snapshot. */
  resumable?: boolean;
  /** Snapshots go in the bulk lane (large ones, such as a terminal's screen). */
  bulk?: boolean;
}

export type FrameHandler<T extends ClientFrame["type"]> = (
  frame: Extract<ClientFrame, { type: T }>,
  conn: Connection,
) => void | Promise<void>;

/** Events kept per channel for `since` replays. */
const REPLAY_EVENTS = 512;
/** Channels nobody listens to are kept (for replays after a reconnect) up to this many. */
const MAX_IDLE_CHANNELS = 2000;
/** Bad frames tolerated per socket within BAD_FRAME_WINDOW_MS before it is closed. */
const BAD_FRAME_LIMIT = 20;
const BAD_FRAME_WINDOW_MS = 10_000;
/** Frames larger than this are refused by ws itself (close 1009); up to it, an error frame answers. */
const MAX_PAYLOAD_BYTES = 4 * MAX_CLIENT_FRAME_BYTES;

interface ChannelState {
  seq: number;
  events: { seq: number; event: unknown }[];
  subs: Map<Connection, Sub>;
}

class Sub implements ChannelSubscription {
  ready = false;
  ended = false;
  overflowed = false;
  pending: { seq: number; event: unknown }[] = [];
  private sentHooks: (() => void)[] = [];
  private endHooks: (() => void)[] = [];

  constructor(
    readonly channel: Channel,
    readonly conn: Connection,
    private readonly currentSeq: () => number,
    private readonly bulk: boolean,
  ) {}

  resnapshot(state: unknown): void {
    if (this.ended) return;
    this.conn.send(
      { type: "snapshot", channel: this.channel, seq: this.currentSeq(), state },
      { channel: this.channel, bulk: this.bulk },
    );
  }

  onSnapshotSent(fn: () => void): void {
    this.sentHooks.push(fn);
  }

  onEnd(fn: () => void): void {
    if (this.ended) fn();
    else this.endHooks.push(fn);
  }

  snapshotSent(): void {
    for (const fn of this.sentHooks.splice(0)) fn();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const fn of this.endHooks.splice(0)) fn();
  }
}

export class Hub {
  private readonly providers = new Map<ChannelKind, ChannelProvider>();
  private readonly handlers = new Map<string, FrameHandler<ClientFrame["type"]>>();
  private readonly channels = new Map<Channel, ChannelState>();
  private readonly conns = new Set<Connection>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  /** Sequence numbers start here so that numbers from before a restart never look current. */
  private readonly seqBase = Date.now() * 1000;

  registerProvider(kind: ChannelKind, provider: ChannelProvider): void {
    if (this.providers.has(kind)) throw new Error(`a provider for '${kind}:' channels is already registered`);
    this.providers.set(kind, provider);
  }

  registerHandler<T extends ClientFrame["type"]>(type: T, handler: FrameHandler<T>): void {
    this.handlers.set(type, handler as unknown as FrameHandler<ClientFrame["type"]>);
  }

  /**
   * Sends an event to a channel's subscribers and keeps it for replays. `coalesce`: small, frequent events
   * (streamed text) published in one tick may leave in one write.
   */
  publish(channel: Channel, event: unknown, opts: { coalesce?: boolean } = {}): void {
    const state = this.channels.get(channel);
    // Nobody ever subscribed: a first subscriber gets a snapshot, which has this change in it.
    if (!state) return;
    state.seq++;
    const entry = { seq: state.seq, event };
    state.events.push(entry);
    if (state.events.length > REPLAY_EVENTS) state.events.shift();
    for (const sub of state.subs.values()) {
      if (sub.ready)
        sub.conn.send(
          { type: "event", channel, seq: entry.seq, event },
          { channel, coalesce: opts.coalesce },
        );
      else if (sub.pending.length < REPLAY_EVENTS) sub.pending.push(entry);
      // Too much happened while its snapshot was being made: it gets another one instead.
      else sub.overflowed = true;
    }
  }

  /** Upgrades an HTTP request to the hub's socket (call it only for authorized requests). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, meta: ConnectionMeta = {}): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, meta));
  }

  accept(ws: WebSocket, req: IncomingMessage, meta: ConnectionMeta = {}): Connection {
    const conn = new Connection(ws, req, meta);
    this.conns.add(conn);
    const bad: number[] = [];
    const badFrame = (code: string, message: string, ref?: string) => {
      conn.send({ type: "error", code, message, ...(ref ? { ref } : {}) });
      const now = Date.now();
      bad.push(now);
      while (bad.length > 0 && bad[0]! < now - BAD_FRAME_WINDOW_MS) bad.shift();
      if (bad.length > BAD_FRAME_LIMIT) {
        conn.close(
          CLOSE_CODES.tooManyBadFrames,
          `more than ${BAD_FRAME_LIMIT} bad frames in ${BAD_FRAME_WINDOW_MS / 1000} s`,
        );
      }
    };
    ws.on("message", (data, isBinary) => {
      if (isBinary)
        return badFrame("UNEXPECTED_BINARY", "binary frames are only sent by the server; send JSON text");
      const text = data.toString();
      if (text.length > MAX_CLIENT_FRAME_BYTES) {
        return badFrame(
          "FRAME_TOO_LARGE",
          `frame of ${text.length} bytes; the limit is ${MAX_CLIENT_FRAME_BYTES}`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return badFrame("BAD_FRAME", "frame is not valid JSON");
      }
      const parsed = ClientFrameSchema.safeParse(json, { error: readableIssues });
      if (!parsed.success) {
        const ref =
          typeof (json as { ref?: unknown })?.ref === "string"
            ? (json as { ref: string }).ref.slice(0, 100)
            : undefined;
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? ` at '${issue.path.join(".")}'` : "";
        return badFrame("BAD_FRAME", `${issue?.message ?? "invalid frame"}${where}`, ref);
      }
      void this.dispatch(parsed.data, conn).catch((err) => {
        const ref = "ref" in parsed.data ? parsed.data.ref : undefined;
        conn.send({
          type: "error",
          code: errorCode(err),
          message: errorMessage(err),
          ...(ref ? { ref } : {}),
        });
      });
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      this.conns.delete(conn);
      for (const state of this.channels.values()) {
        const sub = state.subs.get(conn);
        if (sub) this.endSub(state, sub);
      }
    });
    return conn;
  }

  /** Closes every socket opened with this sign-in session (it was revoked). */
  disconnectSession(sessionId: string): void {
    for (const c of this.conns)
      if (c.meta.sessionId === sessionId) c.close(CLOSE_CODES.sessionRevoked, "session revoked");
  }

  /** Closes every socket, telling clients the server is going away (they reconnect and resubscribe). */
  close(): void {
    for (const c of this.conns) c.close(CLOSE_CODES.serverRestart, "Hive is stopping");
    this.wss.close();
  }

  private async dispatch(frame: ClientFrame, conn: Connection): Promise<void> {
    switch (frame.type) {
      case "subscribe":
        return this.subscribe(conn, frame.channel, frame.since, frame.ref);
      case "unsubscribe": {
        const state = this.channels.get(frame.channel);
        const sub = state?.subs.get(conn);
        if (state && sub) this.endSub(state, sub);
        return;
      }
      case "ping":
        conn.send({ type: "pong", ...(frame.t !== undefined ? { t: frame.t } : {}) });
        return;
    }
    const handler = this.handlers.get(frame.type);
    if (!handler) throw new HiveError("BAD_REQUEST", `'${frame.type}' is not handled by this server`);
    await handler(frame, conn);
  }

  private async subscribe(
    conn: Connection,
    channel: Channel,
    since: number | undefined,
    ref?: string,
  ): Promise<void> {
    const { kind, id } = parseChannel(channel);
    const provider = this.providers.get(kind);
    if (!provider) {
      const known = CHANNEL_KINDS.filter((k) => this.providers.has(k)).join(", ");
      conn.send({
        type: "error",
        code: "UNKNOWN_CHANNEL",
        message: `no '${kind}:' channels here (known: ${known})`,
        ...(ref ? { ref } : {}),
      });
      return;
    }
    const state = this.channelState(channel);
    const old = state.subs.get(conn);
    if (old) this.endSub(state, old);
    const sub = new Sub(channel, conn, () => state.seq, provider.bulk ?? false);
    state.subs.set(conn, sub);

    if (since !== undefined && provider.resumable !== false && this.canReplay(state, since)) {
      for (const e of state.events) {
        if (e.seq > since) conn.send({ type: "event", channel, seq: e.seq, event: e.event }, { channel });
      }
      sub.ready = true;
      return;
    }
    const seq = state.seq;
    let snapshot: unknown;
    try {
      snapshot = await provider.snapshot(id, sub);
    } catch (err) {
      if (state.subs.get(conn) === sub) this.endSub(state, sub);
      throw err;
    }
    if (sub.ended) return;
    if (sub.overflowed) return this.subscribe(conn, channel, undefined, ref);
    conn.send({ type: "snapshot", channel, seq, state: snapshot }, { channel, bulk: provider.bulk ?? false });
    sub.snapshotSent();
    // Events published while an async snapshot was being made (they may repeat what it shows).
    for (const e of sub.pending)
      if (e.seq > seq) conn.send({ type: "event", channel, seq: e.seq, event: e.event }, { channel });
    sub.pending = [];
    sub.ready = true;
  }

  private canReplay(state: ChannelState, since: number): boolean {
    if (since > state.seq || since < this.seqBase) return false;
    if (since === state.seq) return true;
    const oldest = state.events[0];
    return oldest !== undefined && oldest.seq <= since + 1;
  }

  private channelState(channel: Channel): ChannelState {
    let state = this.channels.get(channel);
    if (state) {
      // Refresh its place in the idle order.
      this.channels.delete(channel);
      this.channels.set(channel, state);
      return state;
    }
    state = { seq: this.seqBase, events: [], subs: new Map() };
    this.channels.set(channel, state);
    if (this.channels.size > MAX_IDLE_CHANNELS) {
      for (const [ch, s] of this.channels) {
        if (this.channels.size <= MAX_IDLE_CHANNELS) break;
        if (s.subs.size === 0) this.channels.delete(ch);
      }
    }
    return state;
  }

  private endSub(state: ChannelState, sub: Sub): void {
    if (state.subs.get(sub.conn) === sub) state.subs.delete(sub.conn);
    sub.end();
  }
}

function errorCode(err: unknown): string {
  return err instanceof HiveError ? err.code : "INTERNAL";
}

function errorMessage(err: unknown): string {
  if (err instanceof HiveError) return err.message;
  console.error("hub: a frame handler failed", err);
  return "internal error; see the server log";
}
