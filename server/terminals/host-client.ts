import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { HiveError } from "../../shared/errors.ts";
import { ensureHome, type HomeLayout, homeLayout } from "../home/home.ts";
import { HOST_MAIN, ROOT } from "./host/build.ts";
import type { HostMessage, HostRequest } from "./host/messages.ts";
import { ptyHostPaths } from "./host/paths.ts";
import { type DataMessage, encodeJson, WireDecoder } from "./host/wire.ts";

/** The web server's connection to the PTY host of its home; starts the host when none answers. */

const HOST_START_TIMEOUT_MS = 10_000;
/** The host's output is read into one buffer of this size, reused for every read (see WireDecoder). */
const READ_BUFFER_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

type Request = HostRequest extends infer R ? (R extends { req: number } ? Omit<R, "req"> : never) : never;
type Notice = Exclude<HostRequest, { req: number }>;

export interface HostClientEvents {
  data(msg: DataMessage): void;
  message(msg: Exclude<HostMessage, { t: "res" }>): void;
  /** The host went away (it crashed or was stopped); its terminals are gone. */
  close(): void;
}

export class PtyHostClient {
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  private nextReq = 1;
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    reads: { push(chunk: Buffer): void },
    private readonly events: HostClientEvents,
  ) {
    const decoder = new WireDecoder(
      (msg) => this.onMessage(msg as HostMessage),
      (msg) => this.events.data(msg),
    );
    reads.push = (chunk) => decoder.push(chunk);
    sock.on("error", () => {});
    sock.on("close", () => {
      this.closed = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new HiveError("UNAVAILABLE", "the PTY host closed the connection"));
      }
      this.pending.clear();
      this.events.close();
    });
  }

  /** Connects to the home's PTY host, starting one first if none answers. */
  static async connect(layout: HomeLayout, events: HostClientEvents): Promise<PtyHostClient> {
    const paths = ptyHostPaths(layout);
    // Reads reach the client's decoder once it exists; none can come before (no I/O in between).
    const reads = { push: (_chunk: Buffer) => {} };
    const onRead = (chunk: Buffer) => reads.push(chunk);
    let sock = await tryConnect(paths.socket, onRead);
    if (!sock) {
      startHost(layout);
      const deadline = Date.now() + HOST_START_TIMEOUT_MS;
      while (!sock && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        sock = await tryConnect(paths.socket, onRead);
      }
      if (!sock) {
        throw new HiveError(
          "UNAVAILABLE",
          `the PTY host did not start within ${HOST_START_TIMEOUT_MS / 1000} s; see ${paths.logFile}`,
        );
      }
    }
    return new PtyHostClient(sock, reads, events);
  }

  static async isRunning(layout: HomeLayout): Promise<boolean> {
    const sock = await tryConnect(ptyHostPaths(layout).socket);
    sock?.destroy();
    return sock !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request<T>(msg: Request): Promise<T> {
    if (this.closed) return Promise.reject(new HiveError("UNAVAILABLE", "the PTY host is not connected"));
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(req);
        reject(
          new HiveError(
            "UNAVAILABLE",
            `the PTY host did not answer '${msg.t}' within ${REQUEST_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(req, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(encodeJson({ ...msg, req }));
    });
  }

  notify(msg: Notice): void {
    if (!this.closed) this.sock.write(encodeJson(msg));
  }

  close(): void {
    this.sock.destroy();
  }

  private onMessage(msg: HostMessage): void {
    if (msg.t !== "res") {
      this.events.message(msg);
      return;
    }
    const p = this.pending.get(msg.req);
    if (!p) return;
    this.pending.delete(msg.req);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.value);
    else
      p.reject(new HiveError(msg.error.code === "NOT_FOUND" ? "NOT_FOUND" : "INTERNAL", msg.error.message));
  }
}

/** Ends the PTY host of a Hive home and every shell it holds (`hive stop --all`). */
export async function stopPtyHost(home: string): Promise<void> {
  const paths = ptyHostPaths(homeLayout(home));
  const pid = existsSync(paths.pidFile) ? Number(readFileSync(paths.pidFile, "utf8").trim()) : NaN;
  const sock = await tryConnect(paths.socket);
  if (sock) {
    sock.write(encodeJson({ t: "shutdown", req: 0 } satisfies HostRequest));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => sock.destroy(), 3000);
      sock.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
      sock.resume();
    });
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  const deadline = Date.now() + 3000;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (isRunning(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startHost(layout: HomeLayout): void {
  ensureHome(layout);
  const log = openSync(ptyHostPaths(layout).logFile, "a");
  try {
    const child = spawn(process.execPath, ["--import", "tsx", HOST_MAIN, layout.root], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", log, log],
      env: process.env,
    });
    child.unref();
  } finally {
    closeSync(log);
  }
}

/** `onRead`: every read, as a view of one reused buffer (valid only during the call). */
function tryConnect(path: string, onRead?: (chunk: Buffer) => void): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    if (!existsSync(path)) return resolve(undefined);
    const buffer = onRead ? Buffer.allocUnsafe(READ_BUFFER_BYTES) : undefined;
    const sock = createConnection({
      path,
      ...(onRead && buffer
        ? {
            onread: {
              buffer,
              callback: (n: number) => {
                onRead(buffer.subarray(0, n));
                return true;
              },
            },
          }
        : {}),
    });
    sock.once("connect", () => {
      sock.removeAllListeners("error");
      resolve(sock);
    });
    sock.once("error", () => resolve(undefined));
  });
}
