import type { AddressInfo } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { HiveSocket } from "../../client/socket.ts";
import { CLOSE_CODES, type ClientFrame } from "../../shared/protocol.ts";

/**
 * The browser's socket client against a real WebSocket server speaking just enough of the protocol,
 * so drops, silent sockets and refusals can be staged exactly.
 */
class StubHub {
  readonly wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  readonly frames: ClientFrame[] = [];
  readonly sockets: WebSocket[] = [];
  answerPings = true;

  constructor() {
    this.wss.on("connection", (ws) => {
      this.sockets.push(ws);
      ws.on("message", (data) => {
        const f = JSON.parse(String(data)) as ClientFrame;
        this.frames.push(f);
        if (f.type === "subscribe") {
          ws.send(
            JSON.stringify({ type: "snapshot", channel: f.channel, seq: 5, state: { n: 5 }, ref: f.ref }),
          );
          ws.send(JSON.stringify({ type: "event", channel: f.channel, seq: 6, event: { n: 6 } }));
        }
        if (f.type === "ping" && this.answerPings) ws.send(JSON.stringify({ type: "pong", t: f.t }));
      });
    });
  }

  static async start(): Promise<StubHub> {
    const hub = new StubHub();
    if (!hub.wss.address()) await new Promise((r) => hub.wss.once("listening", r));
    return hub;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  subscribes(): Extract<ClientFrame, { type: "subscribe" }>[] {
    return this.frames.filter(
      (f): f is Extract<ClientFrame, { type: "subscribe" }> => f.type === "subscribe",
    );
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

describe("the tab's socket client", () => {
  let hub: StubHub;
  let socket: HiveSocket;

  beforeAll(() => {
    // Node 20 has no WebSocket of its own; the `ws` client speaks the same browser API.
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  });

  afterEach(async () => {
    socket?.stop();
    await hub?.close();
  });

  it("resubscribes every channel with the last sequence number it saw after the server drops it", async () => {
    hub = await StubHub.start();
    socket = new HiveSocket(hub.url);
    const seen: number[] = [];
    socket.subscribe("workspace:w1", {
      snapshot: (_s, seq) => seen.push(seq),
      event: (_e, seq) => seen.push(seq),
    });
    socket.start();
    await expect.poll(() => seen).toEqual([5, 6]);
    expect(hub.subscribes()[0]).toMatchObject({ channel: "workspace:w1" });
    expect(hub.subscribes()[0]!.since).toBeUndefined();

    hub.sockets[0]!.terminate();
    await expect.poll(() => socket.state.value.kind).toBe("reconnecting");
    await expect.poll(() => hub.subscribes().length, { timeout: 5000 }).toBe(2);
    expect(hub.subscribes()[1]).toMatchObject({ channel: "workspace:w1", since: 6 });
    await expect.poll(() => socket.state.value.kind).toBe("open");
  });

  it("gives up on a socket that stops answering pings and connects again", async () => {
    hub = await StubHub.start();
    hub.answerPings = false;
    socket = new HiveSocket(hub.url, { pingEveryMs: 50, pongTimeoutMs: 200 });
    socket.start();
    await expect.poll(() => hub.sockets.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    hub.answerPings = true;
    await expect.poll(() => socket.state.value.kind, { timeout: 5000 }).toBe("open");
  });

  it("stops reconnecting when the server says the session is not valid", async () => {
    hub = await StubHub.start();
    socket = new HiveSocket(hub.url);
    socket.start();
    await expect.poll(() => hub.sockets.length).toBe(1);
    hub.sockets[0]!.close(CLOSE_CODES.unauthorized, "sign in first");
    await expect.poll(() => socket.state.value.kind).toBe("unauthorized");
    await new Promise((r) => setTimeout(r, 600));
    expect(hub.sockets.length).toBe(1);
  });

  it("answers a request with the frame carrying its ref, and fails it at once when offline", async () => {
    hub = await StubHub.start();
    hub.wss.on("connection", (ws) =>
      ws.on("message", (data) => {
        const f = JSON.parse(String(data));
        if (f.type === "term.open")
          ws.send(JSON.stringify({ type: "term.opened", termId: "t1", cellId: f.cellId, ref: f.ref }));
      }),
    );
    socket = new HiveSocket(hub.url);
    await expect(
      socket.request({ type: "term.open", cellId: "c1", cols: 80, rows: 24 }),
    ).rejects.toMatchObject({
      code: "DISCONNECTED",
    });
    socket.start();
    await expect.poll(() => socket.state.value.kind).toBe("open");
    expect(await socket.request({ type: "term.open", cellId: "c1", cols: 80, rows: 24 })).toMatchObject({
      type: "term.opened",
      termId: "t1",
    });
  });
});
