import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HiveError } from "../../shared/errors.ts";
import { bootId, readStat, signalGroup } from "../services/proc.ts";

/**
 * One `opencode serve` owned by Hive: loopback, a free port, a password only Hive knows, its own
 * process group, stderr to a log file. A health check notices when it dies or hangs and starts it
 * again; listeners learn of each (re)start so sessions and event streams can be re-attached.
 */

const HEALTH_INTERVAL_MS = 2_000;
const HEALTH_TIMEOUT_MS = 5_000;
const HEALTH_FAILURES_TO_KILL = 3;
const START_TIMEOUT_MS = 30_000;
/** Restart back-off grows to this cap so a binary that crashes at once does not spin. */
const MAX_BACKOFF_MS = 10_000;
const PREFERRED_PORT_WAIT_MS = 3_000;

const PACKAGE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../node_modules/.bin/opencode");

/**
 * setpriv (util-linux) makes the kernel kill the server when Hive dies, even by SIGKILL, so a crashed
 * Hive leaves no OpenCode behind; without it (macOS) the pid file lets the next start reap the orphan.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

function withParentDeathSignal(bin: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ["--pdeathsig", "SIGKILL", "--", bin, ...args]] : [bin, args];
}

export function opencodeBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.HIVE_OPENCODE_BIN || PACKAGE_BIN;
}

export type ServerState =
  | { kind: "starting" }
  | { kind: "running"; url: string }
  | { kind: "failed"; message: string }
  | { kind: "stopped" };

export interface OpencodeServerOptions {
  /** Directory the server starts in (the workspace repository). */
  cwd: string;
  /** Log file for the server's stdout and stderr. */
  logFile: string;
  /** Where the running server's identity is kept, so a Hive that crashed reaps it on its next start. */
  pidFile: string;
  /** Passed as OPENCODE_CONFIG_CONTENT: provider settings, MCP servers. */
  config: Record<string, unknown>;
  /** Extra environment (XDG dirs in tests). */
  env?: NodeJS.ProcessEnv;
  onState(state: ServerState): void;
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(port, "127.0.0.1", () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(bound));
    });
  });
}

/**
 * A free loopback port: `preferred` if it is free within a few seconds (the restarted server's last process
 * may still be letting go of it), else any. Attached TUIs follow either way (tui-command.ts).
 */
async function freePort(preferred = 0): Promise<number> {
  const deadline = Date.now() + PREFERRED_PORT_WAIT_MS;
  while (preferred) {
    try {
      return await listenOnce(preferred);
    } catch {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return listenOnce(0);
}

export class OpencodeServer {
  readonly password = randomBytes(24).toString("base64url");
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private health: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Set by stop(): Hive is done with this server, and nothing may start it again (a late start would take
   * the pid file and port of the next Hive's server, and reap it as an orphan). */
  private closed = false;
  private backoffMs = 500;
  private startPromise: Promise<string> | undefined;
  /** The last start's port, tried first: a restarted server keeps its address, so attached TUIs reconnect. */
  private port: number | undefined;
  /** What the next start passes as OPENCODE_CONFIG_CONTENT (see restart). */
  private config: Record<string, unknown>;
  state: ServerState = { kind: "stopped" };
  private halting: Promise<void> | undefined;

  constructor(private readonly opts: OpencodeServerOptions) {
    this.config = opts.config;
  }

  get authorization(): string {
    return `Basic ${Buffer.from(`opencode:${this.password}`).toString("base64")}`;
  }

  /** The running server's URL, starting it if needed. Rejects with a sentence a person can act on. */
  url(): Promise<string> {
    if (this.closed)
      return Promise.reject(new HiveError("UNAVAILABLE", "Hive is stopping its OpenCode server."));
    // A halt under way (a restart for a changed config) finishes first: starting meanwhile would let it
    // mark stopped, and lose track of, the server this call starts.
    if (this.halting) return this.halting.then(() => this.url());
    if (this.state.kind === "running") return Promise.resolve(this.state.url);
    this.stopping = false;
    this.startPromise ??= this.start().finally(() => {
      this.startPromise = undefined;
    });
    return this.startPromise;
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.opts.onState(state);
  }

  private async start(): Promise<string> {
    const bin = opencodeBinary(this.opts.env ? { ...process.env, ...this.opts.env } : process.env);
    if (!existsSync(bin)) {
      const message = `OpenCode is not installed at ${bin}: run 'npm install' in Hive's folder or set HIVE_OPENCODE_BIN to an opencode binary.`;
      this.setState({ kind: "failed", message });
      throw new HiveError("UNAVAILABLE", message);
    }
    this.setState({ kind: "starting" });
    reapOrphan(this.opts.pidFile);
    const port = await freePort(this.port);
    if (this.stopping) throw new HiveError("UNAVAILABLE", "OpenCode was stopped while it was starting.");
    this.port = port;
    this.log ??= createWriteStream(this.opts.logFile, { flags: "a" });
    this.log.write(`\n--- ${new Date().toISOString()} starting ${bin} serve on port ${port}\n`);
    const [file, args] = withParentDeathSignal(bin, [
      "serve",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    const child = spawn(file, args, {
      cwd: this.opts.cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...this.opts.env,
        OPENCODE_SERVER_PASSWORD: this.password,
        OPENCODE_CONFIG_CONTENT: JSON.stringify(this.config),
        // Hive hands OpenCode the workspace's opencode.json itself (above). Left to find it, OpenCode also
        // reads each worktree's copy, and rewrites every copy it reads that lacks a `$schema` line: a change
        // in the person's checkout and in every cell's diff that nobody made.
        OPENCODE_DISABLE_PROJECT_CONFIG: "1",
      },
    });
    this.child = child;
    const identity =
      child.pid === undefined
        ? undefined
        : { pid: child.pid, startTicks: readStat(child.pid)?.startTicks, bootId: bootId() };
    if (identity) writeFileSync(this.opts.pidFile, JSON.stringify(identity));
    child.stderr?.pipe(this.log, { end: false });
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = "";
      const timer = setTimeout(
        () => fail(`OpenCode did not start within ${START_TIMEOUT_MS / 1000} s`),
        START_TIMEOUT_MS,
      );
      const fail = (why: string) => {
        clearTimeout(timer);
        this.kill(child);
        reject(new HiveError("UNAVAILABLE", `${why}; see ${this.opts.logFile}.`));
      };
      child.stdout?.on("data", (d: Buffer) => {
        this.log?.write(d);
        out += d.toString();
        const m = out.match(/listening on\s+(https?:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          out = "";
          resolveUrl(m[1]!);
        }
      });
      child.once("error", (e) => fail(`OpenCode could not be started (${e.message})`));
      child.once("exit", (code, signal) =>
        fail(`OpenCode exited during start-up (${signal ?? `exit ${code}`})`),
      );
    }).catch((e: HiveError) => {
      this.setState({ kind: "failed", message: e.message });
      this.scheduleRestart();
      throw e;
    });
    child.removeAllListeners("exit");
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    if (this.stopping) {
      // Stopped while it started: halt() found no child to kill yet, so this start must not leave one behind.
      this.kill(child);
      throw new HiveError("UNAVAILABLE", "OpenCode was stopped while it was starting.");
    }
    this.backoffMs = 500;
    // Said in the pid file too: an OpenCode TUI terminal waits for it before attaching (tui-command.ts).
    if (identity) writeFileSync(this.opts.pidFile, JSON.stringify({ ...identity, ready: true, url }));
    this.setState({ kind: "running", url });
    this.watchHealth(child, url);
    return url;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    clearInterval(this.health);
    if (this.stopping) return;
    this.log?.write(`--- ${new Date().toISOString()} exited (${signal ?? `exit ${code}`})\n`);
    this.setState({
      kind: "failed",
      message: `OpenCode stopped unexpectedly (${signal ?? `exit ${code}`}); Hive is restarting it, see ${this.opts.logFile}.`,
    });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    setTimeout(() => {
      if (!this.stopping && this.state.kind !== "running" && !this.startPromise)
        void this.url().catch(() => {});
    }, delay).unref();
  }

  /**
   * A server that stops answering is killed; its exit then triggers the restart. It takes several checks in a
   * row to fail: a busy or starved OpenCode (a first prompt on a loaded box) can miss one, and killing it then
   * would cut the run the user is waiting for. Checks never overlap.
   */
  private watchHealth(child: ChildProcess, url: string): void {
    clearInterval(this.health);
    let failures = 0;
    let checking = false;
    this.health = setInterval(() => {
      if (checking) return;
      checking = true;
      fetch(`${url}/path`, {
        headers: { authorization: this.authorization },
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      })
        .then(
          (r) => {
            failures = 0;
            void r.body?.cancel();
          },
          () => {
            failures += 1;
            if (this.child !== child || failures < HEALTH_FAILURES_TO_KILL) return;
            this.log?.write(
              `--- ${new Date().toISOString()} ${failures} health checks failed in a row, killing\n`,
            );
            this.kill(child);
          },
        )
        .finally(() => {
          checking = false;
        });
    }, HEALTH_INTERVAL_MS);
    this.health.unref();
  }

  private kill(child: ChildProcess): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** Kills the server's whole process group for good: it is not restarted, nor started again. */
  async stop(): Promise<void> {
    this.closed = true;
    await this.halt();
  }

  /** Kills the server's whole process group and stops restarting it until the next url(). */
  private async halt(): Promise<void> {
    if (this.halting) return this.halting;
    this.halting = this.haltNow().finally(() => {
      this.halting = undefined;
    });
    return this.halting;
  }

  private async haltNow(): Promise<void> {
    this.stopping = true;
    clearInterval(this.health);
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => this.kill(child), 3_000);
      await exited;
      clearTimeout(timer);
      // What OpenCode started and left behind (an LSP server, a package install) goes with it.
      signalGroup(child.pid, "SIGKILL");
    }
    await this.startPromise?.catch(() => {});
    rmSync(this.opts.pidFile, { force: true });
    this.log?.end();
    this.log = undefined;
    this.setState({ kind: "stopped" });
  }

  /**
   * OpenCode reads its config only at start: a changed one takes a restart (sessions live in its store and
   * survive it). A server that is not running just starts with it when next needed.
   */
  async reconfigure(config: Record<string, unknown>): Promise<void> {
    this.config = config;
    if (this.state.kind === "stopped" || this.closed) return;
    await this.halt();
    await this.url();
  }

  /** Where the running server's identity is kept; rewritten at each start. */
  get pidFile(): string {
    return this.opts.pidFile;
  }

  /** For tests that prove the restart: the server's pid. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static files(
    layout: { logsDir: string; runDir: string },
    workspaceSlug: string,
  ): { logFile: string; pidFile: string } {
    return {
      logFile: join(layout.logsDir, `opencode-${workspaceSlug}.log`),
      pidFile: join(layout.runDir, `opencode-${workspaceSlug}.json`),
    };
  }
}

/** Kills the server a previous Hive left running (it crashed before stopping it), if it is still ours. */
export function reapOrphan(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  try {
    const id = JSON.parse(readFileSync(pidFile, "utf8")) as {
      pid: number;
      startTicks?: number;
      bootId: string;
    };
    const stat = readStat(id.pid);
    if (stat && id.bootId === bootId() && stat.startTicks === id.startTicks) signalGroup(id.pid, "SIGKILL");
  } catch {
    // An unreadable pid file names nothing we can trust.
  }
  rmSync(pidFile, { force: true });
}
