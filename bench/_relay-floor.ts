import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import WebSocket from "ws";
import { tempDir } from "../tests/helpers/repo.ts";

/**
 * The floor of Hive's process layout, for bench/echo-latency: a WebSocket into one process (as into Hive's
 * web server), a unix socket from it to a second process that owns a PTY (as the PTY host does), and back,
 * with nothing done on the way but forwarding. Each keystroke wakes the same processes in the same order
 * as in Hive, so what this takes is what the layout costs on this machine before any of Hive's own work.
 */

const ROOT = join(import.meta.dirname, "..");

/** Owns a PTY running `cat` with the line discipline echoing; relays its bytes over a unix socket. */
const PTY_OWNER = `
import net from "node:net";
import pty from "node-pty";
const p = pty.spawn("/bin/sh", ["-c", "stty -icanon; exec cat"], { cols: 80, rows: 24, encoding: null });
net.createServer((s) => {
  s.on("data", (d) => p.write(d));
  p.onData((d) => s.write(d));
}).listen(process.argv[1], () => console.log("ready"));
`;

/** Takes a WebSocket and relays it to the PTY owner's unix socket: text frames in, binary frames out. */
const FRONT = `
import net from "node:net";
import { WebSocketServer } from "ws";
const up = net.createConnection(process.argv[1]);
await new Promise((r) => up.once("connect", r));
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => console.log(String(wss.address().port)));
wss.on("connection", (ws) => {
  ws.on("message", (m) => up.write(m));
  up.on("data", (d) => ws.send(d, { binary: true }));
});
`;

export interface RelayFloor {
  /** Sends a key; `onEcho` is called for every output chunk that holds a "k". */
  send(key: string): void;
  close(): void;
}

export async function startRelayFloor(onEcho: () => void): Promise<RelayFloor> {
  const sockPath = join(tempDir("hive-bench-relay-"), "pty.sock");
  const children: ChildProcess[] = [];
  const cleanup = () => {
    for (const c of children) c.kill("SIGKILL");
    rmSync(dirname(sockPath), { recursive: true, force: true });
  };
  const run = (code: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", code, sockPath], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(child);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`relay process exited (${code})`)));
      child.stdout!.once("data", (d) => resolve(String(d).trim()));
    });
  try {
    await run(PTY_OWNER);
    const port = await run(FRONT);
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.on("message", (d: Buffer) => {
      if (d.includes(0x6b)) onEcho();
    });
    return {
      send: (key) => ws.send(key),
      close() {
        ws.terminate();
        cleanup();
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
