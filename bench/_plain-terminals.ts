import { RELAY_PTY_OUTPUT, RelayProcesses } from "./_relay-processes.ts";

/**
 * What bench/browser-terminal compares Hive with: a plain browser terminal in the same process layout (a
 * WebSocket into one process, a unix socket from it to a second that owns the PTYs), built as ttyd-like
 * tools build theirs. Two bash shells, each on a unix socket and a WebSocket of its own; the front holds a
 * shell's output back while more than a window of it is unacknowledged. The page is plain xterm.js: it
 * writes what comes and acknowledges what xterm has parsed. No screens, no skipping, no typing hold, no
 * framework. It is not a lower bound: it shows what the same machine gives a keystroke's echo beside a
 * flood without Hive's work for it.
 */

/** Owns the two shells; a connection's first byte picks one, and the connection then is that shell's. */
const PTY_OWNER = `
import net from "node:net";
import pty from "node-pty";
${RELAY_PTY_OUTPUT}
const env = { ...process.env, PS1: "$ ", TERM: "xterm-256color" };
const shells = [0, 1].map(() => pty.spawn("bash", ["--norc", "--noprofile", "-i"], { cols: +process.argv[2], rows: +process.argv[3], env, encoding: null }));
net.createServer((s) => {
  s.once("data", (first) => {
    const p = shells[first[0]];
    if (first.length > 1) p.write(first.subarray(1));
    s.on("data", (d) => p.write(d));
    relay(p, s);
  });
}).listen(process.argv[1], () => console.log("ready"));
`;

/**
 * A WebSocket per shell, as two ttyd tabs would have: its path picks the shell, so neither terminal's
 * output is ever queued behind the other's. Page to front: text "i<keys>" is input, "a<bytes>"
 * acknowledges output. Front to page: the shell's output, binary.
 */
const FRONT = `
import http from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";
const WINDOW = 1024 * 1024;
// The page comes from here too: Chromium lets no WebSocket to 127.0.0.1 out of about:blank.
const server = http.createServer((req, res) => res.end("<!doctype html><title>plain terminals</title>"));
const wss = new WebSocketServer({ server });
server.listen(0, "127.0.0.1", () => console.log(String(server.address().port)));
wss.on("connection", (ws, req) => {
  const up = net.createConnection(process.argv[1]);
  up.write(Buffer.from([Number(req.url.slice(1))]));
  let unacked = 0;
  let held = false;
  up.on("data", (d) => {
    ws.send(d, { binary: true });
    unacked += d.length;
    if (unacked > WINDOW && !held) { held = true; up.pause(); }
  });
  ws.on("message", (m) => {
    const text = String(m);
    if (text[0] === "i") up.write(text.slice(1));
    if (text[0] === "a") {
      unacked -= +text.slice(1);
      if (held && unacked < WINDOW / 2) { held = false; up.resume(); }
    }
  });
  ws.on("close", () => up.destroy());
});
`;

export interface PlainTerminals {
  /** The page to open, which then connects back to the same address. */
  url: string;
  close(): void;
}

export async function startPlainTerminals(cols: number, rows: number): Promise<PlainTerminals> {
  const processes = new RelayProcesses("hive-bench-plain-");
  try {
    await processes.start(PTY_OWNER, [String(cols), String(rows)]);
    const port = await processes.start(FRONT);
    return { url: `http://127.0.0.1:${port}/`, close: () => processes.close() };
  } catch (err) {
    processes.close();
    throw err;
  }
}

/**
 * In the page (plain xterm.js loaded as `window.Terminal`): opens the two terminals, the first
 * shown where Hive's pane is, the second hidden as Hive's background tab is, and connects them.
 */
export async function openPlainTerminals(opts: {
  cols: number;
  rows: number;
  rect: { left: number; top: number; width: number; height: number };
}): Promise<void> {
  type Term = {
    open(el: HTMLElement): void;
    write(d: Uint8Array, cb?: () => void): void;
    onData(fn: (d: string) => void): void;
  };
  const w = window as unknown as {
    Terminal: new (o: object) => Term;
    __terms: Term[];
  };
  const terms = await Promise.all(
    [0, 1].map(async (n) => {
      const ws = new WebSocket(`${location.href.replace(/^http/, "ws")}${n}`);
      ws.binaryType = "arraybuffer";
      await new Promise((r) => ws.addEventListener("open", r, { once: true }));
      const host = document.createElement("div");
      Object.assign(host.style, {
        position: "fixed",
        left: `${opts.rect.left}px`,
        top: `${opts.rect.top}px`,
        width: `${opts.rect.width}px`,
        height: `${opts.rect.height}px`,
        display: n === 0 ? "block" : "none",
      });
      document.body.append(host);
      const term = new w.Terminal({ cols: opts.cols, rows: opts.rows, scrollback: 10_000, fontSize: 13 });
      term.open(host);
      term.onData((d) => ws.send(`i${d}`));
      // Acknowledged once parsed, in 64 KiB units or whatever is left once output pauses.
      let unacked = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const flush = () => {
        if (unacked > 0) ws.send(`a${unacked}`);
        unacked = 0;
      };
      ws.addEventListener("message", (ev) => {
        const bytes = new Uint8Array(ev.data as ArrayBuffer);
        term.write(bytes, () => {
          unacked += bytes.length;
          clearTimeout(timer);
          if (unacked >= 64 * 1024) flush();
          else timer = setTimeout(flush, 10);
        });
      });
      return term;
    }),
  );
  w.__terms = terms;
}
