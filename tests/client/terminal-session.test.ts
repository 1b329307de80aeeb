import type { AddressInfo } from "node:net";
import xtermHeadless from "@xterm/headless";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { HiveSocket } from "../../client/socket.ts";
import { TerminalSession, type TerminalSink } from "../../client/terminal-session.ts";
import { type ClientFrame, encodeTermData, TERM_DATA_HEADER_BYTES } from "../../shared/protocol.ts";
import { xtermAtRest } from "../../shared/rest-tracker.ts";
import type { TermSnapshot } from "../../shared/terminals.ts";
import { linesThatCanShow } from "../../shared/waiting-output.ts";
import { rows } from "../helpers/xterm-rows.ts";

/**
 * The browser's terminal session against a socket that floods it faster than its xterm parses: the
 * lines it drops unparsed must leave exactly the screen and history that parsing every byte leaves.
 */

type Term = InstanceType<typeof xtermHeadless.Terminal>;
const COLS = 80;
const ROWS = 24;
const SCROLLBACK = 1000;
const enc = new TextEncoder();

const newTerm = () =>
  new xtermHeadless.Terminal({ cols: COLS, rows: ROWS, scrollback: SCROLLBACK, allowProposedApi: true });

/** The snapshot of the one live shell (`term:t1`, numeric id 3) these hubs serve. */
const shellSnapshot = (screen: string): TermSnapshot => ({
  termId: "t1",
  cellId: "c1",
  name: "shell",
  numericId: 3,
  cols: COLS,
  rows: ROWS,
  exitCode: null,
  signal: null,
  createdAt: new Date(0).toISOString(),
  screen,
});

/** A hub that answers `term:t1` with a snapshot, then sends `output` in frames of `frameBytes`. */
async function floodingHub(snapshotScreen: string, output: Uint8Array, frameBytes: number) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const acked = { bytes: 0 };
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as ClientFrame;
      if (f.type === "term.ack") acked.bytes += f.bytes;
      if (f.type !== "subscribe") return;
      const state = shellSnapshot(snapshotScreen);
      ws.send(JSON.stringify({ type: "snapshot", channel: f.channel, seq: 1, state, ref: f.ref }));
      for (let at = 0; at < output.length; at += frameBytes) {
        const part = output.subarray(at, at + frameBytes);
        ws.send(encodeTermData(3, part, new Uint8Array(TERM_DATA_HEADER_BYTES + part.length)));
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    acked,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

/** A sink over a headless xterm, as the terminal pane is over the browser's, counting what it parses. */
function xtermSink(term: Term, skipping: boolean) {
  const counted = { parsed: 0 };
  const sink: TerminalSink = {
    reset: (screen) => {
      term.reset();
      if (screen) term.write(screen);
    },
    write: (data, done) => {
      counted.parsed += data.length;
      term.write(data, done);
    },
    ...(skipping
      ? { keepLines: () => linesThatCanShow(SCROLLBACK, term.rows), atRest: () => xtermAtRest(term) }
      : {}),
  };
  return { sink, counted };
}

const colored = (n: number) =>
  `${n} \x1b[3${n % 8}mcolored\x1b[0m plain \x1b[4${n % 8};1mbg\x1b[22m 漢字 😀 tab\there\x1b[K ${"z".repeat(n % 50)}\r\n`;
const lines = (from: number, n: number, line: (i: number) => string) => {
  let text = "";
  for (let i = from; i < from + n; i++) text += line(i);
  return text;
};

describe("a terminal session behind a flood", () => {
  let hub: Awaited<ReturnType<typeof floodingHub>> | undefined;
  let socket: HiveSocket | undefined;

  beforeAll(() => {
    // Node 20 has no WebSocket of its own; the `ws` client speaks the same browser API.
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  });

  afterEach(async () => {
    socket?.stop();
    await hub?.close();
  });

  async function run(output: string, skipping: boolean, frameBytes = 128 * 1024) {
    // The snapshot leaves a colour on and the cursor mid-line, as a live shell's screen may.
    const snapshot = "prompt$ cat build.log\r\n\x1b[1;31mred bold left on ";
    const bytes = enc.encode(output);
    hub = await floodingHub(snapshot, bytes, frameBytes);
    socket = new HiveSocket(hub.url);
    socket.start();
    const term = newTerm();
    const { sink, counted } = xtermSink(term, skipping);
    const session = new TerminalSession(socket, "t1");
    session.attach(sink);
    const h = hub;
    const plain = newTerm();
    await new Promise<void>((r) => plain.write(snapshot + output, r));
    const expected = rows(plain);
    // Everything is acknowledged once it is parsed or dropped (the read-ahead is acknowledged sooner).
    await expect.poll(() => h.acked.bytes, { timeout: 20_000, interval: 50 }).toBe(bytes.length);
    await expect.poll(() => rows(term), { timeout: 20_000, interval: 200 }).toEqual(expected);
    session.dispose();
    socket.stop();
    await hub.close();
    hub = undefined;
    return { parsed: counted.parsed, total: bytes.length };
  }

  it("drops the lines it could never show, and ends with exactly the screen and history of parsing every byte", async () => {
    const output =
      lines(0, 20_000, colored) +
      // One line much longer than a piece, of wide characters and colours...
      `${lines(0, 4000, (i) => `\x1b[3${i % 8}m漢字 ${i} `)}\r\n` +
      // ...lines of colours that are never reset...
      lines(20_000, 3000, (i) => `\x1b[3${i % 8}m${i} never reset\r\n`) +
      // ...cursor moves, which nothing may be skipped past until the parser is at rest again...
      `\x1b[5;10Hmoved\x1b[2Aup\r\n${lines(30_000, 20_000, colored)}` +
      // ...and lines with no colour of their own, after one set in lines that are dropped.
      `\x1b[1;45m${lines(0, 5000, (i) => `still bold on magenta ${i}\r\n`)}prompt$ `;
    const r = await run(output, true);
    expect(r.parsed).toBeLessThan(0.5 * r.total);
  });

  it("stays exact when frames end in the middle of sequences and characters", async () => {
    const output = `${lines(0, 8000, colored)}\x1b[32mgreen at the end\r\nprompt$ `;
    await run(output, true, 4093);
  });

  it("parses every byte for a sink that cannot say where its parser is", async () => {
    const output = `${lines(0, 8000, colored)}prompt$ `;
    const r = await run(output, false);
    expect(r.parsed).toBe(r.total);
  });
});

/** A hub for `term:t1` that holds resize requests until the test answers them, in the order it picks. */
async function sizingHub() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const asked: { cols: number; rows: number }[] = [];
  let peer: WebSocket | undefined;
  let seq = 1;
  wss.on("connection", (ws) => {
    peer = ws;
    ws.on("message", (data) => {
      const f = JSON.parse(String(data)) as ClientFrame;
      if (f.type === "term.resize") asked.push({ cols: f.cols, rows: f.rows });
      if (f.type !== "subscribe") return;
      const state = shellSnapshot("");
      ws.send(JSON.stringify({ type: "snapshot", channel: f.channel, seq: ++seq, state, ref: f.ref }));
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
    asked,
    /** The server resized the shell (for this window or another) and tells every window. */
    resized(cols: number, rows: number) {
      const event = { type: "resized", cols, rows };
      peer?.send(JSON.stringify({ type: "event", channel: "term:t1", seq: ++seq, event }));
    },
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

describe("a terminal session shown in several windows", () => {
  let hub: Awaited<ReturnType<typeof sizingHub>>;
  let socket: HiveSocket;
  let session: TerminalSession;

  beforeAll(() => {
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  });

  afterEach(async () => {
    session.dispose();
    socket.stop();
    await hub.close();
  });

  async function attached() {
    hub = await sizingHub();
    socket = new HiveSocket(hub.url);
    socket.start();
    session = new TerminalSession(socket, "t1");
    session.attach({ reset: () => {}, write: (_data, done) => done() });
    await expect.poll(() => session.status.value.status).toBe("live");
  }

  it("keeps sizing the shell while a resize of its own is still to come, and gives way to one after it", async () => {
    await attached();
    session.fit(100, 30);
    session.fit(90, 30);
    await expect
      .poll(() => hub.asked)
      .toEqual([
        { cols: 100, rows: 30 },
        { cols: 90, rows: 30 },
      ]);
    // The server made them in this order: this window's first, another window's, this window's second.
    hub.resized(100, 30);
    hub.resized(120, 40);
    await new Promise((r) => setTimeout(r, 50));
    expect(session.sizedElsewhere.value).toBeUndefined();
    hub.resized(90, 30);
    await new Promise((r) => setTimeout(r, 50));
    expect(session.sizedElsewhere.value).toBeUndefined();

    // Another window's resize after the last of its own: this window shows the shell at that size...
    hub.resized(70, 20);
    await expect.poll(() => session.sizedElsewhere.value).toEqual({ cols: 70, rows: 20 });
    expect(session.fit(95, 30)).toEqual({ cols: 70, rows: 20 });
    expect(hub.asked).toHaveLength(2); // ...and a pane resized meanwhile asks for nothing...
    // ...until it is typed or focused in.
    session.claimSize();
    expect(session.sizedElsewhere.value).toBeUndefined();
    await expect.poll(() => hub.asked.at(-1)).toEqual({ cols: 95, rows: 30 });
    expect(hub.asked).toHaveLength(3);
  });

  it("asks for no resize the shell already has", async () => {
    await attached();
    session.fit(COLS, ROWS);
    session.fit(COLS, ROWS);
    session.claimSize();
    session.fit(COLS + 1, ROWS);
    await expect.poll(() => hub.asked).toEqual([{ cols: COLS + 1, rows: ROWS }]);
  });
});
