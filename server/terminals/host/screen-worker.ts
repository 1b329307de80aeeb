import { parentPort } from "node:worker_threads";
import { Screen } from "./screen.ts";
import type { ScreenReply, ScreenRequest } from "./screens.ts";

/**
 * Runs every terminal's headless xterm off the PTY host's main thread: parsing a flood takes whole
 * milliseconds at a time, which must not delay another terminal's keystroke echo.
 */

const screens = new Map<number, { screen: Screen; parsed: Promise<void> }>();
const port = parentPort!;

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
      if (s) s.parsed = s.screen.write(msg.data);
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
