import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { type FlowControl, TermFlow } from "../../server/terminals/term-flow.ts";
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

    const control: FlowControl = {
      watch() {},
      pause() {},
      resume() {},
      snapshot: () => Promise.reject(new Error("no resync expected")),
    };
    const flow = new TermFlow(control);
    const received: Buffer[] = [];
    let unacked = 0;
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

    // The host's frames, of any size, and a client slower than the shell that acknowledges in pieces, some
    // of them small (as a browser does once output pauses): the window then opens by a few bytes at a time.
    const r = seededRandom(3);
    const ack = (max: number) => {
      const bytes = Math.min(unacked, max);
      unacked -= bytes; // before: the ack sends more at once
      sub.ack(bytes);
    };
    for (let offset = 0; offset < input.length; ) {
      const n = 1 + r(128 * 1024);
      flow.data({ num: 1, offset, flags: 0, bytes: input.subarray(offset, offset + n) });
      offset += n;
      if (r(8) === 0) ack(r(2) === 0 ? 1 + r(600) : 128 * 1024);
    }
    for (let before = -1; before !== received.length; ) {
      before = received.length;
      ack(Number.POSITIVE_INFINITY);
    }

    const sent = Buffer.concat(received);
    const [full, spared] = [terminal(), terminal()];
    await write(full, input);
    await write(spared, sent);
    expect(rows(spared)).toEqual(rows(full));
    // Sent: what the acks let through, and the last of the lines that waited (1,041 can show). Pieces cut
    // inside a sequence, once the window opened by a few bytes, left what waited behind them unskippable:
    // then 31% was sent.
    expect(sent.length).toBeLessThan(input.length / 4);
  });
});
