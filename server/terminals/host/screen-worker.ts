import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { Screen } from "./screen.ts";
import type { ScreenReply, ScreenRequest } from "./screens.ts";

/**
 * Runs every terminal's headless xterm off the PTY host's main thread: parsing a flood takes whole
 * milliseconds at a time, which must not delay another terminal's keystroke echo.
 */

const screens = new Map<number, { screen: Screen; parsed: Promise<void> }>();
const port = parentPort!;
/**
 * Keeping screens current is background work: on Linux a nice value is per thread, so this lowers only
 * this worker, and PTY I/O and keystroke echo on the main thread come first on a busy machine. How far
 * it may fall behind is bounded by the host (it pauses a shell whose output waits to be parsed).
 */
const WORKER_NICE = 0;
try {
  setPriority(WORKER_NICE);
} catch {
  // Not permitted here: the worker runs at the host's priority.
}

port.on("message", (msg: ScreenRequest) => {
  switch (msg.op) {
    case "create":
      screens.set(msg.num, {
        screen: new Screen({ cols: msg.cols, rows: msg.rows, scrollbackLines: msg.lines }),
        parsed: Promise.resolve(),
      });
      return;
    case "write": {
      const s = screens.get(msg.num);
      if (!s) return;
      const bytes = msg.data.length;
      s.parsed = s.screen.write(msg.data).then(() => {
        port.postMessage({ op: "parsed", num: msg.num, bytes } satisfies ScreenReply);
      });
      return;
    }
    case "resize":
      screens.get(msg.num)?.screen.resize(msg.cols, msg.rows);
      return;
    case "serialize": {
      const s = screens.get(msg.num);
      const reply = (screen: string) =>
        port.postMessage({ op: "serialized", req: msg.req, screen } satisfies ScreenReply);
      if (!s) reply("");
      else void s.parsed.then(() => reply(s.screen.serialize()));
      return;
    }
    case "dispose":
      screens.get(msg.num)?.screen.dispose();
      screens.delete(msg.num);
      return;
  }
});
