import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import {
  type FlowControl,
  TermFlow,
  TYPING_HOLD_EVERY_MS,
  TYPING_HOLD_MS,
} from "../../server/terminals/term-flow.ts";
import {
  TERM_HIGH_WATERMARK,
  TERM_SKIPPING_ACK_BYTES,
  TERM_SKIPPING_TRANSIT_BYTES,
} from "../../shared/terminals.ts";
import { linesThatCanShow } from "../../shared/waiting-output.ts";
import { seededRandom } from "../helpers/seeded-random.ts";
import { rows } from "../helpers/xterm-rows.ts";

const COLS = 100;
const ROWS = 40;
const SCROLLBACK = 1000;

function terminal() {
  return new xtermHeadless.Terminal({
    cols: COLS,
    rows: ROWS,
    scrollback: SCROLLBACK,
    allowProposedApi: true,
  });
}
const write = (t: ReturnType<typeof terminal>, d: Uint8Array | string) =>
  new Promise<void>((r) => t.write(d, r));

describe("a subscriber that says what it can show", () => {
  it("is spared a test runner's flood, in frames cut anywhere, and its screen ends exact", async () => {
    // Eight SGR sequences a line, each color ended on its own (picocolors): frames cut at random points
    // often end inside one.
    let text = "";
    for (let i = 0; i < 100_000; i++)
      text += `\x1b[32m✓\x1b[39m \x1b[2mtests/t${i}.test.ts\x1b[22m \x1b[33m(${i % 40} tests)\x1b[39m \x1b[90m${i % 700}ms\x1b[39m\r\n`;
    text += "\x1b[1mthe end\x1b[22m\r\n$ ";
    const input = Buffer.from(text);

    const tab = skippingTab();
    // The host's frames, of any size, and a client slower than the shell that acknowledges in pieces, some
    // of them small (as a browser does once output pauses): the window then opens by a few bytes at a time.
    const r = seededRandom(3);
    for (let offset = 0; offset < input.length; ) {
      const n = 1 + r(128 * 1024);
      tab.output(input.subarray(offset, offset + n));
      offset += n;
      if (r(8) === 0) tab.ack(r(2) === 0 ? 1 + r(600) : 128 * 1024);
    }
    tab.drain();

    const sent = Buffer.concat(tab.received);
    const [full, spared] = [terminal(), terminal()];
    await write(full, input);
    await write(spared, sent);
    expect(rows(spared)).toEqual(rows(full));
    // Sent: what the acks let through, and the last of the lines that waited (1,041 can show). Pieces cut
    // inside a sequence, once the window opened by a few bytes, left what waited behind them unskippable:
    // then 31% was sent.
    expect(sent.length).toBeLessThan(input.length / 4);
  });

  it("has at most TERM_SKIPPING_TRANSIT_BYTES on its way while the flood can be skipped, the whole window when not", () => {
    const tab = skippingTab();
    const r = seededRandom(5);
    const feed = (text: string, bytes: number) => {
      const input = Buffer.from(text.repeat(Math.ceil(bytes / text.length)));
      let most = 0;
      for (let offset = 0; offset < input.length; ) {
        const n = 1 + r(128 * 1024);
        tab.output(input.subarray(offset, offset + n));
        offset += n;
        most = Math.max(most, tab.unacked);
        if (r(4) === 0) tab.ack(TERM_SKIPPING_ACK_BYTES);
      }
      tab.drain();
      return most;
    };
    // Plain lines: only the end of a sequence the window cut may go past it (see RestTracker.restPoint).
    const plain = feed("\x1b[32mok\x1b[0m line of a log, plain enough to skip\r\n", 8 * 1024 * 1024);
    expect(plain).toBeGreaterThan(TERM_SKIPPING_TRANSIT_BYTES / 2);
    expect(plain).toBeLessThanOrEqual(TERM_SKIPPING_TRANSIT_BYTES + 256);
    // A full-screen program's redraws (cursor moves) cannot be skipped: they get the whole window.
    const redraws = feed(
      "\x1b[H\x1b[2Ka status line redrawn in place\x1b[5;1Hand another\r\n",
      8 * 1024 * 1024,
    );
    expect(redraws).toBeGreaterThan(4 * TERM_SKIPPING_TRANSIT_BYTES);
    expect(redraws).toBeLessThanOrEqual(512 * 1024 + 256);
  });
});

/** A tab that has said what it can show, fed the host's frames; it acknowledges only when told. */
function skippingTab() {
  const control: FlowControl = {
    watch() {},
    pause() {},
    resume() {},
    snapshot: () => Promise.reject(new Error("no resync expected")),
  };
  const flow = new TermFlow(control);
  const received: Buffer[] = [];
  let unacked = 0;
  let offset = 0;
  const sub = flow.add({
    data: (_num, bytes) => {
      received.push(Buffer.from(bytes));
      unacked += bytes.length;
    },
    resync: () => {
      throw new Error("no resync expected");
    },
  });
  sub.setKeepLines(linesThatCanShow(SCROLLBACK, ROWS));
  sub.start({ offset: 0, rest: { parser: true, altScreen: false, scrollRegion: false }, rows: ROWS });
  const ack = (max: number) => {
    const bytes = Math.min(unacked, max);
    unacked -= bytes; // before: the ack sends more at once
    sub.ack(bytes);
  };
  return {
    received,
    get unacked() {
      return unacked;
    },
    output(bytes: Buffer) {
      flow.data({ num: 1, offset, flags: 0, bytes });
      offset += bytes.length;
    },
    ack,
    /** Acknowledges everything until nothing more comes. */
    drain() {
      for (let before = -1; before !== received.length; ) {
        before = received.length;
        ack(Number.POSITIVE_INFINITY);
      }
    },
  };
}

describe("a terminal whose output flows, while someone types in another terminal of the window", () => {
  /** A flow whose PTY is observed: each pause and resume it is told. */
  function observedFlow() {
    const told: string[] = [];
    const flow = new TermFlow({
      watch() {},
      pause: () => told.push("pause"),
      resume: () => told.push("resume"),
      snapshot: () => Promise.reject(new Error("no resync expected")),
    });
    const sub = flow.add({ data() {}, resync() {} });
    sub.start({ offset: 0, rest: { parser: true, altScreen: false, scrollRegion: false }, rows: ROWS });
    let offset = 0;
    const output = (bytes: number) => {
      flow.data({ num: 1, offset, flags: 0, bytes: Buffer.alloc(bytes, 0x61) });
      offset += bytes;
    };
    return { told, flow, sub, output };
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("is held back for a moment after each keystroke, then runs again", async () => {
    const { told, sub, output } = observedFlow();
    output(1000);
    sub.yieldToTyping();
    sub.yieldToTyping(); // a second key inside the hold neither lengthens it nor pauses again
    expect(told).toEqual(["pause"]);
    await sleep(TYPING_HOLD_MS + 50);
    expect(told).toEqual(["pause", "resume"]);
  });

  it("keeps running most of the time under a key held down", async () => {
    const { told, sub, output } = observedFlow();
    const start = performance.now();
    while (performance.now() - start < 1000) {
      output(100);
      sub.yieldToTyping();
      await sleep(5);
    }
    // At most one hold of TYPING_HOLD_MS every TYPING_HOLD_EVERY_MS, each ended while the typing goes on:
    // the flood keeps most of its time instead of waiting for the key to be let go.
    expect(told.filter((t) => t === "pause").length).toBeLessThanOrEqual(1000 / TYPING_HOLD_EVERY_MS + 1);
    expect(told.filter((t) => t === "resume").length).toBeGreaterThanOrEqual(3);
  });

  it("leaves a shell with no recent output alone", async () => {
    const { told, sub, output } = observedFlow();
    output(10);
    await sleep(300);
    sub.yieldToTyping();
    expect(told).toEqual([]);
  });

  it("stays paused when its subscriber is still behind as the hold ends", async () => {
    const { told, flow, sub, output } = observedFlow();
    output(1000);
    sub.yieldToTyping();
    // Past the high watermark, unacknowledged: the watermarks pause it too.
    output(TERM_HIGH_WATERMARK + 1);
    await sleep(TYPING_HOLD_MS + 50);
    expect(told).toEqual(["pause"]);
    sub.ack(TERM_HIGH_WATERMARK + 1001);
    flow.update();
    expect(told).toEqual(["pause", "resume"]);
  });
});
