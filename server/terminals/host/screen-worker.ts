import { parentPort } from "node:worker_threads";
import { NOTHING_KNOWN, type RestState } from "../../../shared/rest-tracker.ts";
import { Screen } from "./screen.ts";
import { ScreenFeed } from "./screen-feed.ts";
import type { ScreenReply, ScreenRequest } from "./screens.ts";

/**
 * Runs every terminal's headless xterm off the PTY host's main thread: parsing a flood takes whole
 * milliseconds at a time, and even scanning it (see waiting-output.ts) takes a quarter of the time the
 * main thread has for reading the PTYs, which must not delay another terminal's keystroke echo.
 */

const screens = new Map<number, ScreenFeed>();
const port = parentPort!;
/**
 * Output is fed in pieces of at most this size: the feed's bookkeeping of a flood's lines grows with the
 * piece, and megabyte pieces made it cost more than the scan.
 */
const PIECE_BYTES = 128 * 1024;
/** Buffers lent by the main thread (see Screens.write), with their pieces still in use; those free to go back. */
const lent = new WeakMap<ArrayBuffer, number>();
let giveBack: ArrayBuffer[] = [];

function release(chunk: Uint8Array): void {
  const buffer = chunk.buffer as ArrayBuffer;
  const pieces = lent.get(buffer);
  if (pieces === undefined) return;
  if (pieces > 1) {
    lent.set(buffer, pieces - 1);
    return;
  }
  lent.delete(buffer);
  if (giveBack.length === 0) setImmediate(returnBuffers);
  giveBack.push(buffer);
}

function returnBuffers(): void {
  const buffers = giveBack;
  giveBack = [];
  port.postMessage({ op: "free", buffers } satisfies ScreenReply, buffers);
}

port.on("message", (msg: ScreenRequest) => {
  switch (msg.op) {
    case "create":
      screens.set(
        msg.num,
        new ScreenFeed(
          new Screen({ cols: msg.cols, rows: msg.rows, scrollbackLines: msg.lines }),
          (bytes) => port.postMessage({ op: "parsed", num: msg.num, bytes } satisfies ScreenReply),
          release,
        ),
      );
      return;
    case "write": {
      const { data } = msg;
      if (msg.lent) lent.set(data.buffer as ArrayBuffer, Math.ceil(data.length / PIECE_BYTES));
      const feed = screens.get(msg.num);
      for (let at = 0; feed && at < data.length; at += PIECE_BYTES)
        feed.write(data.subarray(at, at + PIECE_BYTES));
      return;
    }
    case "resize": {
      const feed = screens.get(msg.num);
      feed?.resize(msg.cols, msg.rows);
      return;
    }
    case "serialize": {
      const s = screens.get(msg.num);
      const reply = (screen: string, rest: RestState) =>
        port.postMessage({ op: "serialized", req: msg.req, screen, rest } satisfies ScreenReply);
      if (!s) reply("", NOTHING_KNOWN);
      else void s.idle().then(() => reply(s.screen.serialize(), s.screen.restState()));
      return;
    }
    case "dispose":
      screens.get(msg.num)?.dispose();
      screens.delete(msg.num);
      return;
  }
});
