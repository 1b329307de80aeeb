import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Hub } from "../../server/transport/hub.ts";
import { HiveError } from "../../shared/errors.ts";
import type { ServerFrame } from "../../shared/protocol.ts";
import { TestSocket } from "./ws-client.ts";

/** The hub on its own, behind a real HTTP server and real sockets, with a channel of numbered events. */
let server: Server;
let hub: Hub;
const sockets: TestSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  hub?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function start(): Promise<{ url: string; state: { count: number } }> {
  hub = new Hub();
  const state = { count: 0 };
  hub.registerProvider("workspace", {
    snapshot: (id) => {
      if (id !== "w1") throw new HiveError("WORKSPACE_NOT_FOUND", `no workspace '${id}'`);
      return { count: state.count };
    },
  });
  server = createServer();
  server.on("upgrade", (req, socket, head) => hub.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state };
}

async function connect(url: string): Promise<TestSocket> {
  const s = await TestSocket.connect(url);
  sockets.push(s);
  return s;
}

function publish(state: { count: number }, n: number): void {
  for (let i = 0; i < n; i++) hub.publish("workspace:w1", { n: ++state.count });
}

const events = (s: TestSocket) =>
  s.frames.filter((f): f is Extract<ServerFrame, { type: "event" }> => f.type === "event");

/** Frames are answered in order: once the pong is back, everything sent before it has arrived. */
async function settle(s: TestSocket): Promise<void> {
  const t = Math.random();
  const pong = s.next((f) => f.type === "pong" && f.t === t);
  s.send({ type: "ping", t });
  await pong;
}

describe("the socket hub", () => {
  it("sends a snapshot, then events with consecutive sequence numbers", async () => {
    const { url, state } = await start();
    publish(state, 3);
    const s = await connect(url);
    const snap = await s.subscribe("workspace:w1");
    expect(snap).toMatchObject({ type: "snapshot", state: { count: 3 } });
    publish(state, 5);
    await settle(s);
    const seqs = events(s).map((e) => e.seq);
    expect(events(s).map((e) => (e.event as { n: number }).n)).toEqual([4, 5, 6, 7, 8]);
    expect(seqs).toEqual(seqs.map((_, i) => (snap as { seq: number }).seq + 1 + i));
  });

  it("replays exactly the missed events to a client that resubscribes with since", async () => {
    const { url, state } = await start();
    const first = await connect(url);
    await first.subscribe("workspace:w1");
    publish(state, 10);
    await settle(first);
    const last = events(first).at(-1)!.seq;
    first.terminate();
    publish(state, 7);
    const again = await connect(url);
    again.send({ type: "subscribe", channel: "workspace:w1", since: last });
    publish(state, 2);
    await settle(again);
    expect(again.frames.some((f) => f.type === "snapshot")).toBe(false);
    const got = events(again);
    expect(got.map((e) => (e.event as { n: number }).n)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(got.map((e) => e.seq)).toEqual(got.map((_, i) => last + 1 + i));
  });

  it("sends a fresh snapshot when the missed events are no longer kept, or come from before a restart", async () => {
    const { url, state } = await start();
    const s = await connect(url);
    const snap = (await s.subscribe("workspace:w1")) as { seq: number };
    publish(state, 600);
    const again = await connect(url);
    const resumed = await again.subscribe("workspace:w1", snap.seq);
    expect(resumed).toMatchObject({ type: "snapshot", state: { count: 600 } });
    const third = await connect(url);
    expect(await third.subscribe("workspace:w1", 12)).toMatchObject({ type: "snapshot" });
  });

  it("answers an unknown channel or id with an error frame and carries on", async () => {
    const { url } = await start();
    const s = await connect(url);
    expect(await s.subscribe("agent:x")).toMatchObject({ type: "error", code: "UNKNOWN_CHANNEL" });
    expect(await s.subscribe("workspace:nope")).toMatchObject({ type: "error", code: "WORKSPACE_NOT_FOUND" });
    expect(await s.subscribe("workspace:w1")).toMatchObject({ type: "snapshot" });
  });

  it("stops sending events after unsubscribe", async () => {
    const { url, state } = await start();
    const s = await connect(url);
    await s.subscribe("workspace:w1");
    s.send({ type: "unsubscribe", channel: "workspace:w1" });
    await settle(s);
    publish(state, 3);
    await settle(s);
    expect(events(s)).toEqual([]);
  });
});
