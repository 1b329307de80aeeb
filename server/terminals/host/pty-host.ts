import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, openSync, unlinkSync, writeSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import * as pty from "node-pty";
import type { TerminalInfo } from "../../../shared/terminals.ts";
import { childrenOf, readStat } from "../../services/proc.ts";
import type { HostMessage, HostRequest, HostSnapshot, OpenSpec } from "./messages.ts";
import { Outbox } from "./outbox.ts";
import { OutputCoalescer } from "./output-coalescer.ts";
import { Screens } from "./screens.ts";
import { DATA_HEADER_BYTES, DATA_INTERACTIVE, encodeJson, sealData, WireDecoder } from "./wire.ts";

/**
 * The PTY host: a small process per Hive home that owns every shell and its screen, so the web server
 * can restart (or crash) without taking them along. It serves one unix socket; the web server connects,
 * sends requests and gets output as data frames.
 */

/** After the shell exits, output still in the PTY's pipe is read until it has been quiet this long. */
const EXIT_DRAIN_QUIET_MS = 30;
const EXIT_DRAIN_MAX_MS = 1000;
/** A shell whose output waits this long to be parsed into its screen is paused until it is back under LOW. */
const SCREEN_BACKLOG_HIGH = 8 * 1024 * 1024;
const SCREEN_BACKLOG_LOW = 2 * 1024 * 1024;
/**
 * While a shell's output is paused, this often it is checked for having exited: node-pty discards
 * what an exited shell left unread 200 ms after the exit (#72, #726), so it must be read before then.
 */
const PAUSED_EXIT_POLL_MS = 40;
/**
 * Typing up to this size is written to the PTY at once, on this thread; node-pty writes through the
 * thread pool, one more thread to wake before a keystroke is echoed.
 */
const DIRECT_INPUT_BYTES = 4096;

interface HostTerminal {
  info: TerminalInfo;
  pty: pty.IPty;
  /**
   * Our own handle on the PTY's slave side. When the shell's last handle closes, Linux hangs the PTY
   * up and output still unread is lost (node-pty #72, #726); while we hold one, everything written
   * stays readable. Closed once the exit is handled.
   */
  slave: number | undefined;
  coalescer: OutputCoalescer;
  offset: number;
  /** Output handed to the screen worker and not yet parsed. */
  unparsed: number;
  lastOutputAt: number;
  /** Connections that asked to pause this terminal's output, and "socket" while a socket is full. */
  pausedBy: Set<unknown>;
  paused: boolean;
  /** Polls a paused shell for its exit (see PAUSED_EXIT_POLL_MS). */
  exitPoll: NodeJS.Timeout | undefined;
  /** The shell is gone: what it left is read whatever the flow control says (the kernel holds little). */
  draining: boolean;
  /** Input is written straight to the PTY until once it does not fit; then node-pty queues it, in order. */
  directInput: boolean;
}

export class PtyHost {
  private readonly terminals = new Map<number, HostTerminal>();
  private readonly conns = new Map<Socket, Outbox>();
  /** Connections whose outbox is full: every shell is paused until they drain. */
  private readonly blocked = new Set<Socket>();
  /** Terminals someone watches, per connection; output of the others is not sent (only kept on screen). */
  private readonly watched = new Map<Socket, Set<number>>();
  private readonly screens = new Screens((num, bytes) => this.parsed(num, bytes));
  private server: Server | undefined;
  private nextNum = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `idleExitMs`: exit when no terminal and no connection is left for this long (0: never). */
  constructor(
    private readonly socketPath: string,
    private readonly options: { idleExitMs: number; onExit: () => void; build: string },
  ) {}

  async listen(): Promise<void> {
    if (existsSync(this.socketPath)) {
      if (await isAlive(this.socketPath))
        throw new Error(`another PTY host already serves ${this.socketPath}`);
      unlinkSync(this.socketPath);
    }
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => resolve());
    });
    this.armIdleExit();
  }

  /** Ends every shell and stops serving. */
  async shutdown(): Promise<void> {
    for (const t of this.terminals.values()) this.kill(t);
    this.terminals.clear();
    for (const c of this.conns.keys()) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.screens.terminate();
  }

  private accept(sock: Socket): void {
    this.conns.set(
      sock,
      new Outbox(sock, (full) => {
        if (full) this.blocked.add(sock);
        else this.blocked.delete(sock);
        for (const t of this.terminals.values()) this.setPaused(t, "socket", this.blocked.size > 0);
      }),
    );
    this.watched.set(sock, new Set());
    clearTimeout(this.idleTimer);
    const decoder = new WireDecoder(
      (msg) => this.onRequest(sock, msg as HostRequest),
      () => sock.destroy(),
    );
    sock.on("data", (chunk) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        console.error("pty-host: dropping a connection that sent a broken frame:", err);
        sock.destroy();
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      this.conns.delete(sock);
      this.watched.delete(sock);
      this.blocked.delete(sock);
      for (const t of this.terminals.values()) {
        this.setPaused(t, sock, false);
        if (this.blocked.size === 0) this.setPaused(t, "socket", false);
      }
      this.armIdleExit();
    });
  }

  private onRequest(sock: Socket, msg: HostRequest): void {
    const t = "num" in msg ? this.terminals.get(msg.num) : undefined;
    switch (msg.t) {
      case "input":
        if (t) this.input(t, msg.data);
        return;
      case "resize":
        if (!t || t.info.exitCode !== null || t.info.signal !== null) return;
        t.pty.resize(msg.cols, msg.rows);
        t.coalescer.flush();
        this.screens.resize(msg.num, msg.cols, msg.rows);
        t.info.cols = msg.cols;
        t.info.rows = msg.rows;
        this.broadcast({ t: "resized", num: msg.num, cols: msg.cols, rows: msg.rows });
        return;
      case "pause":
      case "resume":
        if (t) this.setPaused(t, sock, msg.t === "pause");
        return;
      case "watch":
        if (msg.on) this.watched.get(sock)?.add(msg.num);
        else this.watched.get(sock)?.delete(msg.num);
        return;
    }
    void this.answer(sock, msg);
  }

  private async answer(sock: Socket, msg: Extract<HostRequest, { req: number }>) {
    try {
      const value = await this.handle(msg);
      this.send(sock, { t: "res", req: msg.req, ok: true, value: value ?? null });
    } catch (err) {
      const e = err as Error & { code?: string };
      this.send(sock, {
        t: "res",
        req: msg.req,
        ok: false,
        error: { code: e.code ?? "INTERNAL", message: e.message },
      });
    }
    if (msg.t === "shutdown") {
      await this.shutdown();
      this.options.onExit();
    }
  }

  private async handle(msg: Extract<HostRequest, { req: number }>): Promise<unknown> {
    switch (msg.t) {
      case "list":
        return [...this.terminals.values()].map((t) => t.info);
      case "open":
        return this.open(msg.spec).info;
      case "close":
        return this.close(msg.num);
      case "foreground":
        return this.foreground(msg.num);
      case "closeCell": {
        const nums = [...this.terminals.values()]
          .filter((t) => t.info.cellId === msg.cellId)
          .map((t) => t.info.numericId);
        for (const num of nums) this.close(num);
        return nums.length;
      }
      case "snapshot":
        return this.snapshot(msg.num);
      case "build":
        return this.options.build;
      case "shutdown":
        return null;
    }
  }

  private open(spec: OpenSpec): HostTerminal {
    const num = this.nextNum++;
    const proc = pty.spawn(spec.shell, spec.args, {
      name: "xterm-256color",
      cols: spec.cols,
      rows: spec.rows,
      cwd: spec.cwd,
      env: spec.env,
      encoding: null,
    });
    const t: HostTerminal = {
      info: {
        termId: `t${randomBytes(9).toString("base64url")}`,
        cellId: spec.cellId,
        name: spec.name,
        numericId: num,
        cols: spec.cols,
        rows: spec.rows,
        exitCode: null,
        signal: null,
        createdAt: new Date().toISOString(),
      },
      pty: proc,
      slave: holdSlave(proc),
      coalescer: new OutputCoalescer(DATA_HEADER_BYTES, (frame, interactive) =>
        this.output(t, frame, interactive),
      ),
      offset: 0,
      unparsed: 0,
      lastOutputAt: 0,
      pausedBy: new Set(),
      paused: false,
      exitPoll: undefined,
      draining: false,
      directInput: true,
    };
    this.screens.create(num, spec.cols, spec.rows, spec.scrollbackLines);
    // Listen in the same tick as the spawn: node-pty drops data emitted before a listener (#652).
    proc.onData((data) => {
      t.lastOutputAt = performance.now();
      t.coalescer.push(data as unknown as Buffer);
    });
    proc.onExit(({ exitCode, signal }) => void this.exited(t, exitCode, signal ?? 0));
    this.terminals.set(num, t);
    clearTimeout(this.idleTimer);
    return t;
  }

  /** node-pty can report the exit before the last output is read (#72, #726): wait for it to go quiet. */
  private async exited(t: HostTerminal, exitCode: number, signal: number): Promise<void> {
    clearInterval(t.exitPoll);
    const started = performance.now();
    while (
      performance.now() - t.lastOutputAt < EXIT_DRAIN_QUIET_MS &&
      performance.now() - started < EXIT_DRAIN_MAX_MS
    ) {
      await new Promise((r) => setTimeout(r, EXIT_DRAIN_QUIET_MS));
    }
    t.coalescer.flush();
    releaseSlave(t);
    t.info.exitCode = signal ? null : exitCode;
    t.info.signal = signal || null;
    if (signal && exitCode === 0) t.info.exitCode = 128 + signal;
    if (this.terminals.has(t.info.numericId)) {
      this.broadcast({ t: "exit", num: t.info.numericId, exitCode: t.info.exitCode, signal: t.info.signal });
    }
  }

  private input(t: HostTerminal, data: string): void {
    t.coalescer.noteInput();
    const fd = (t.pty as pty.IPty & { fd?: number }).fd;
    if (!t.directInput || fd === undefined || data.length > DIRECT_INPUT_BYTES) {
      t.directInput = false;
      t.pty.write(data);
      return;
    }
    const bytes = Buffer.from(data);
    let written = 0;
    try {
      written = writeSync(fd, bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
    if (written < bytes.length) {
      // The PTY's input queue is full (the program does not read): the rest waits in node-pty's.
      t.directInput = false;
      t.pty.write(bytes.subarray(written));
    }
  }

  private foreground(num: number): { program: string; background: boolean } | null {
    const t = this.terminals.get(num);
    if (!t || t.info.exitCode !== null || t.info.signal !== null) return null;
    const shell = readStat(t.pty.pid);
    if (!shell) return null;
    if (shell.tpgid > 0 && shell.tpgid !== shell.pid)
      return { program: readStat(shell.tpgid)?.name ?? "a program", background: false };
    // A job left running in the background has a process group of its own (`npm run dev &`); what the
    // prompt runs, or a non-interactive script such as the OpenCode TUI's loop, stays in the shell's.
    const job = childrenOf(shell.pid).find((c) => c.state !== "Z" && c.pgid !== shell.pgid);
    return job ? { program: job.name, background: true } : null;
  }

  private close(num: number): boolean {
    const t = this.terminals.get(num);
    if (!t) return false;
    this.terminals.delete(num);
    this.kill(t);
    this.broadcast({ t: "closed", num });
    this.armIdleExit();
    return true;
  }

  private kill(t: HostTerminal): void {
    clearInterval(t.exitPoll);
    t.coalescer.dispose();
    releaseSlave(t);
    this.screens.dispose(t.info.numericId);
    if (t.info.exitCode !== null || t.info.signal !== null) return;
    try {
      // SIGHUP to the shell's whole process group, as a closing terminal would.
      process.kill(-t.pty.pid, "SIGHUP");
    } catch {
      t.pty.kill("SIGHUP");
    }
  }

  private async snapshot(num: number): Promise<HostSnapshot> {
    const t = this.terminals.get(num);
    if (!t) throw Object.assign(new Error(`no terminal ${num}`), { code: "NOT_FOUND" });
    t.coalescer.flush();
    const offset = t.offset;
    const { screen, rest } = await this.screens.serialize(num);
    return { info: t.info, screen, rest, offset };
  }

  /** `frame`: DATA_HEADER_BYTES of room, then the output. */
  private output(t: HostTerminal, data: Uint8Array, interactive: boolean): void {
    const bytes = data.subarray(DATA_HEADER_BYTES);
    const frame = sealData(data, t.info.numericId, t.offset, interactive ? DATA_INTERACTIVE : 0);
    t.offset += bytes.length;
    t.unparsed += bytes.length;
    if (t.unparsed > SCREEN_BACKLOG_HIGH) this.setPaused(t, "screen", true);
    this.screens.write(t.info.numericId, bytes);
    for (const [sock, outbox] of this.conns) {
      if (this.watched.get(sock)?.has(t.info.numericId)) outbox.send(frame, t.info.numericId, interactive);
    }
  }

  private parsed(num: number, bytes: number): void {
    const t = this.terminals.get(num);
    if (!t) return;
    t.unparsed -= bytes;
    if (t.unparsed < SCREEN_BACKLOG_LOW) this.setPaused(t, "screen", false);
  }

  private setPaused(t: HostTerminal, by: unknown, paused: boolean): void {
    if (paused) t.pausedBy.add(by);
    else t.pausedBy.delete(by);
    const should = t.pausedBy.size > 0 && !t.draining;
    if (should === t.paused || t.info.exitCode !== null) return;
    t.paused = should;
    clearInterval(t.exitPoll);
    if (should) {
      t.pty.pause();
      t.exitPoll = setInterval(() => {
        const stat = readStat(t.pty.pid);
        if (stat && stat.state !== "Z") return;
        t.draining = true;
        this.setPaused(t, "exit", false);
      }, PAUSED_EXIT_POLL_MS);
    } else t.pty.resume();
  }

  private broadcast(msg: HostMessage): void {
    for (const sock of this.conns.keys()) this.send(sock, msg);
  }

  private send(sock: Socket, msg: HostMessage): void {
    this.conns.get(sock)?.send(encodeJson(msg), "num" in msg ? msg.num : undefined, true);
  }

  private armIdleExit(): void {
    clearTimeout(this.idleTimer);
    if (this.options.idleExitMs <= 0 || this.terminals.size > 0 || this.conns.size > 0) return;
    this.idleTimer = setTimeout(() => {
      void this.shutdown().then(() => this.options.onExit());
    }, this.options.idleExitMs);
  }
}

function holdSlave(proc: pty.IPty): number | undefined {
  const path = (proc as pty.IPty & { ptsName?: string }).ptsName;
  try {
    return path ? openSync(path, constants.O_RDWR | constants.O_NOCTTY) : undefined;
  } catch {
    return undefined;
  }
}

function releaseSlave(t: HostTerminal): void {
  if (t.slave === undefined) return;
  closeSync(t.slave);
  t.slave = undefined;
}

function isAlive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(socketPath);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}
