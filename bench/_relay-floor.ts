import WebSocket from "ws";
import { RELAY_PTY_OUTPUT, RelayProcesses } from "./_relay-processes.ts";

/**
 * The floor of Hive's process layout, for bench/echo-latency and bench/terminal-throughput: a WebSocket
 * into one process (as into Hive's web server), a unix socket from it to a second process that owns a PTY
 * (as the PTY host does), and back, with nothing done on the way but forwarding. Output read in one turn
 * of the owner's event loop goes out as one write, and each side pauses its source while its socket is
 * full, so a flood is relayed as well as this layout allows without Hive's screens, lanes or acks.
 */

/** Owns a PTY running the shell command it is given; relays its bytes over a unix socket. */
const PTY_OWNER = `
import net from "node:net";
import pty from "node-pty";
${RELAY_PTY_OUTPUT}
const p = pty.spawn("/bin/sh", ["-c", process.argv[2]], { cols: 200, rows: 50, encoding: null });
net.createServer((s) => {
  s.on("data", (d) => p.write(d));
  relay(p, s);
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
  up.on("data", (d) => {
    ws.send(d, { binary: true });
    if (ws._socket.writableLength > 1024 * 1024) {
      up.pause();
      ws._socket.once("drain", () => up.resume());
    }
  });
});
`;

export interface RelayFloor {
  /** Sends input to the PTY, as typing would. */
  send(input: string): void;
  close(): void;
}

/** `command`: what the PTY runs (`sh -c`); `onOutput` gets every binary message the WebSocket brings. */
export async function startRelayFloor(command: string, onOutput: (d: Buffer) => void): Promise<RelayFloor> {
  const processes = new RelayProcesses("hive-bench-relay-");
  try {
    await processes.start(PTY_OWNER, [command]);
    const port = await processes.start(FRONT);
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.on("message", onOutput);
    return {
      send: (input) => ws.send(input),
      close() {
        ws.terminate();
        processes.close();
      },
    };
  } catch (err) {
    processes.close();
    throw err;
  }
}
