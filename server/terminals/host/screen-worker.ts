import { parentPort } from "node:worker_threads";
import { Screen } from "./screen.ts";
import { ScreenFeed } from "./screen-feed.ts";
import type { ScreenReply, ScreenRequest } from "./screens.ts";

/**
 * Runs every terminal's headless xterm off the PTY host's main thread: parsing a flood takes whole
 * milliseconds at a time, which must not delay another terminal's keystroke echo.
 */

const screens = new Map<number, ScreenFeed>();
const port = parentPort!;

port.on("message", (msg: ScreenRequest) => {
  switch (msg.op) {
    case "create":
      screens.set(
        msg.num,
        new ScreenFeed(new Screen({ cols: msg.cols, rows: msg.rows, scrollbackLines: msg.lines }), (bytes) =>
          port.postMessage({ op: "parsed", num: msg.num, bytes } satisfies ScreenReply),
        ),
      );
      return;
    case "write":
      screens.get(msg.num)?.write(msg.data);
      return;
    case "resize": {
      const feed = screens.get(msg.num);
      feed?.resize(msg.cols, msg.rows);
      return;
    }
    case "serialize": {
      const s = screens.get(msg.num);
      const reply = (screen: string) =>
        port.postMessage({ op: "serialized", req: msg.req, screen } satisfies ScreenReply);
      if (!s) reply("");
      else void s.idle().then(() => reply(s.screen.serialize()));
      return;
    }
    case "dispose":
      screens.get(msg.num)?.dispose();
      screens.delete(msg.num);
      return;
  }
});
