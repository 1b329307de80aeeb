import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODES, MAX_CLIENT_FRAME_BYTES } from "../../shared/protocol.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "./ws-client.ts";

let repo: TempRepo;
let h: TestHive;

beforeAll(async () => {
  repo = makeRepo();
  h = await startHive(repo.path);
});

afterAll(async () => {
  await h?.close();
  repo?.cleanup();
});

const connect = () => TestSocket.connect(h.url, h.headers);

async function nextError(s: TestSocket, send: () => void) {
  const err = s.next((f) => f.type === "error");
  send();
  return err;
}

describe("bad input on the socket", () => {
  it("answers each kind of bad frame with an error code, and the socket's channels carry on", async () => {
    const s = await connect();
    await s.subscribe(`workspace:${h.workspaceId}`);
    expect(await nextError(s, () => s.ws.send("{not json"))).toMatchObject({ code: "BAD_FRAME" });
    expect(await nextError(s, () => s.send({ type: "subscribe", channel: 42 }))).toMatchObject({
      code: "BAD_FRAME",
      message: expect.stringContaining("channel"),
    });
    expect(await nextError(s, () => s.send({ type: "term.input", data: "ls\r" }))).toMatchObject({
      code: "BAD_FRAME",
      message: "required at 'termId'",
    });
    expect(await nextError(s, () => s.send({ type: "warp", ref: "a1" }))).toMatchObject({
      code: "BAD_FRAME",
      ref: "a1",
    });
    expect(await nextError(s, () => s.ws.send(Buffer.from([1, 2, 3])))).toMatchObject({
      code: "UNEXPECTED_BINARY",
    });
    expect(await nextError(s, () => s.ws.send("x".repeat(MAX_CLIENT_FRAME_BYTES + 10)))).toMatchObject({
      code: "FRAME_TOO_LARGE",
    });
    expect(await s.subscribe("workspace:does-not-exist")).toMatchObject({
      type: "error",
      code: "WORKSPACE_NOT_FOUND",
    });
    expect(await s.request({ type: "term.input", termId: "tnope", data: "ls\r" })).toMatchObject({
      type: "error",
      code: "NOT_FOUND",
    });
    expect(await s.request({ type: "term.open", cellId: "nope", cols: 80, rows: 24 })).toMatchObject({
      type: "error",
      code: "CELL_NOT_FOUND",
    });
    // The earlier subscription still gets its events.
    const updated = s.next((f) => f.type === "event" && f.channel === `workspace:${h.workspaceId}`);
    await h.api("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "basic",
      name: "still-here",
    });
    expect(await updated).toMatchObject({ event: { type: "cell.updated" } });
    expect(s.closed).toBeUndefined();
    s.close();
  });

  it("closes a socket that keeps sending garbage, with a close code that says why", async () => {
    const s = await connect();
    for (let i = 0; i < 40; i++) s.ws.send(`garbage ${i}`);
    const closed = await s.closedPromise;
    expect(closed.code).toBe(CLOSE_CODES.tooManyBadFrames);
    expect(closed.reason).toMatch(/bad frames/);
  });

  it("closes a socket sending a frame far over the limit (1009)", async () => {
    const s = await connect();
    s.ws.send("y".repeat(MAX_CLIENT_FRAME_BYTES * 5));
    expect((await s.closedPromise).code).toBe(1009);
  });

  it("survives thousands of random frames", async () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const types = [
      "subscribe",
      "unsubscribe",
      "term.open",
      "term.input",
      "term.resize",
      "term.close",
      "term.ack",
      "ping",
      "x",
    ];
    const values = () =>
      pick<unknown>([
        null,
        -1,
        1e308,
        "",
        "workspace:",
        `workspace:${h.workspaceId}`,
        "term:t1",
        "a".repeat(300),
        [],
        {},
        { nested: { deep: [1, 2] } },
        Math.floor(rand() * 1e6),
        "\u0000\uffff",
      ]);
    const frame = (): string | Buffer => {
      const r = rand();
      if (r < 0.1)
        return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
      if (r < 0.2)
        return String.fromCharCode(
          ...Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 0xd7ff)),
        );
      const o: Record<string, unknown> = { type: pick(types) };
      for (const k of ["channel", "since", "termId", "cellId", "data", "cols", "rows", "bytes", "ref", "t"]) {
        if (rand() < 0.5) o[k] = values();
      }
      return JSON.stringify(o);
    };
    let sent = 0;
    let closes = 0;
    while (sent < 3000) {
      const s = await connect();
      while (!s.closed && sent < 3000) {
        s.ws.send(frame());
        sent++;
        if (sent % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      if (s.closed) closes++;
      s.terminate();
    }
    expect(closes).toBeGreaterThan(0);
    const s = await connect();
    expect(await s.subscribe(`workspace:${h.workspaceId}`)).toMatchObject({ type: "snapshot" });
    expect((await h.api("GET", "/api/workspaces")).status).toBe(200);
    s.close();
  });
});
