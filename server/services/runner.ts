import { type ChildProcess, spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { HiveError } from "../../shared/errors.ts";
import type { ServiceStatus } from "../../shared/services.ts";
import type { ServiceLog } from "./log.ts";
import { groupExists, groupMembers, readStat, recentScan, signalGroup } from "./proc.ts";
import { describeCheck, type ReadyCheck, waitReady } from "./ready.ts";
import type { ServiceSpec } from "./spec.ts";

/** A crash loop: more than this many unexpected exits inside the window stops the restarts. */
export const CRASH_LOOP_EXITS = 4;
export const CRASH_LOOP_WINDOW_MS = 60_000;
/** Restart back-off: doubles from the base after each recent crash, up to the cap. */
export const BACKOFF_BASE_MS = 250;
export const BACKOFF_MAX_MS = 10_000;
/** How often an adopted process (not our child, so no exit event) is checked for life. */
const ADOPTED_POLL_MS = 1000;
const GROUP_POLL_MS = 50;
/** After SIGKILL a group is gone within moments; past this, give up waiting rather than hang a stop. */
const KILL_WAIT_MS = 5000;

export interface RunnerDeps {
  log: ServiceLog;
  /** The full environment of the process, computed at each start (ports may change between starts). */
  env(): Record<string, string>;
  check(): ReadyCheck;
  onChange(runner: ServiceRunner): void;
}

/** What a runner records so another Hive process can adopt its service. */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
}

/**
 * Supervises one service of one cell: spawns it in its own process group with its output going to
 * its log file, waits for its ready check, applies its restart policy with back-off, and stops the
 * whole group (stop signal, then SIGKILL).
 */
export class ServiceRunner {
  status: ServiceStatus = "stopped";
  identity: ProcessIdentity | undefined;
  restarts = 0;
  exitCode: number | null = null;
  detail: string | null = null;

  private child: ChildProcess | undefined;
  private adoptedTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyAbort: AbortController | undefined;
  private crashes: number[] = [];
  private stopping: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly cellId: string,
    readonly spec: ServiceSpec,
    private readonly deps: RunnerDeps,
  ) {}

  get running(): boolean {
    return this.status === "starting" || this.status === "ready" || this.status === "restarting";
  }

  /** Starts the service unless it is already running or restarting. */
  start(): void {
    if (this.running) return;
    this.crashes = [];
    this.restarts = 0;
    this.spawnOnce();
  }

  /**
   * Resolves once the service is ready; rejects when it fails, is stopped, or is not ready within the
   * timeout (then it is stopped and marked `error` with its output tail).
   */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const outcome = await new Promise<"ready" | "failed" | "timeout" | "aborted">((resolve) => {
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      const onAbort = () => finish("aborted");
      const check = () => {
        if (this.status === "ready") finish("ready");
        else if (!this.running) finish("failed");
      };
      const finish = (o: "ready" | "failed" | "timeout" | "aborted") => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiters.delete(check);
        resolve(o);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
    if (outcome === "ready") return;
    if (outcome === "aborted") throw signal?.reason ?? new Error("aborted");
    if (outcome === "timeout") {
      const why = `not ready after ${timeoutMs} ms (waited for ${describeCheck(this.deps.check())})`;
      await this.stop();
      this.fail(why);
    }
    throw new HiveError("UNAVAILABLE", `Service '${this.spec.name}' failed: ${this.detail ?? this.status}`, {
      service: this.spec.name,
      status: this.status,
    });
  }

  /** Takes over a process a previous Hive started, if it is still the same process. */
  adopt(identity: ProcessIdentity, wasReady: boolean): boolean {
    const stat = readStat(identity.pid);
    if (!stat || stat.state === "Z" || stat.startTicks !== identity.startTicks) return false;
    this.identity = identity;
    this.setStatus("starting");
    this.adoptedTimer = setInterval(() => {
      const now = readStat(identity.pid);
      if (!now || now.state === "Z" || now.startTicks !== identity.startTicks) this.onExit(null, null);
    }, ADOPTED_POLL_MS);
    this.adoptedTimer.unref();
    const check = this.deps.check();
    // A pattern printed while Hive was down is in the log already; the process said it was ready before.
    if (wasReady || (check.kind === "pattern" && check.pattern.test(this.deps.log.tail(8 * 1024)))) {
      this.setStatus("ready");
    } else this.watchReady(check);
    return true;
  }

  /** Stops the whole process group: the stop signal, then SIGKILL after the stop timeout. */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Releases timers and watchers without touching the process (Hive is going down or the cell is gone). */
  dispose(): void {
    clearInterval(this.adoptedTimer);
    clearTimeout(this.restartTimer);
    this.readyAbort?.abort();
    this.child = undefined;
  }

  private async stopNow(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.readyAbort?.abort();
    const pgid = this.identity?.pid;
    if (pgid === undefined || !this.running) {
      if (this.status === "restarting") this.setStatus("stopped");
      return;
    }
    this.setStatus("stopping");
    this.deps.log.note(`stopping (${this.spec.stopSignal})`);
    signalGroup(pgid, this.spec.stopSignal);
    if (!(await waitGroupGone(pgid, this.spec.stopTimeoutMs))) {
      this.deps.log.note(`still running after ${this.spec.stopTimeoutMs} ms: SIGKILL`);
      signalGroup(pgid, "SIGKILL");
      await waitGroupGone(pgid, KILL_WAIT_MS);
    }
    clearInterval(this.adoptedTimer);
    this.identity = undefined;
    this.child = undefined;
    this.setStatus("stopped");
  }

  private spawnOnce(): void {
    const fd = this.deps.log.openForChild();
    this.deps.log.note(`$ ${this.spec.run}`);
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", this.spec.run], {
        cwd: this.spec.cwd,
        env: this.deps.env(),
        detached: true,
        stdio: ["ignore", fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    child.unref();
    this.child = child;
    this.exitCode = null;
    this.detail = null;
    // Only the current child counts: a stopped one's exit can arrive after its successor started.
    child.once("error", (e) => {
      this.deps.log.note(`could not start: ${e.message}`);
      if (this.child === child) this.onExit(null, null);
    });
    child.once("exit", (code, signal) => {
      if (this.child === child) this.onExit(code, signal);
    });
    if (child.pid === undefined) return;
    const stat = readStat(child.pid);
    this.identity = { pid: child.pid, startTicks: stat?.startTicks ?? 0 };
    this.setStatus("starting");
    this.watchReady(this.deps.check());
  }

  private watchReady(check: ReadyCheck): void {
    this.readyAbort?.abort();
    const abort = new AbortController();
    this.readyAbort = abort;
    waitReady(check, this.deps.log, abort.signal).then(
      () => {
        if (!abort.signal.aborted && this.status === "starting") this.setStatus("ready");
      },
      () => undefined,
    );
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.status === "stopping" || this.status === "stopped") return;
    clearInterval(this.adoptedTimer);
    this.readyAbort?.abort();
    const pgid = this.identity?.pid;
    // Whatever the service left behind in its group would hold its port and outlive it.
    if (pgid !== undefined) signalGroup(pgid, "SIGKILL");
    this.identity = undefined;
    this.child = undefined;
    this.exitCode = code;
    const how = code !== null ? `exit code ${code}` : signal ? `signal ${signal}` : "exited";
    this.deps.log.note(`exited (${how})`);
    const failed = code !== 0;
    const policy = this.spec.restart;
    if (policy === "no" || (policy === "on-failure" && !failed)) {
      if (failed) this.fail(`exited (${how}) and its restart policy is "${policy}"`);
      else this.setStatus("exited");
      return;
    }
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_LOOP_WINDOW_MS), now];
    if (this.crashes.length > CRASH_LOOP_EXITS) {
      this.fail(
        `crash loop: exited ${this.crashes.length} times within ${CRASH_LOOP_WINDOW_MS / 1000} s (last: ${how})`,
      );
      return;
    }
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (this.crashes.length - 1), BACKOFF_MAX_MS);
    this.restarts++;
    this.detail = `${how}; restarting in ${delay} ms`;
    this.setStatus("restarting");
    this.restartTimer = setTimeout(() => {
      if (this.status === "restarting") this.spawnOnce();
    }, delay);
    this.restartTimer.unref();
  }

  private fail(why: string): void {
    const tail = this.deps.log.tailLines();
    this.detail = tail ? `${why}\n${tail}` : why;
    this.setStatus("error");
  }

  private setStatus(status: ServiceStatus): void {
    this.status = status;
    this.deps.onChange(this);
    for (const w of [...this.waiters]) w();
  }
}

/** Waits until no live (non-zombie) process is left in the group; false on timeout. */
async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // The cheap kill(0) answers most polls; only a group that still exists needs the zombie-aware scan.
  while (groupExists(pgid) && groupMembers(pgid, recentScan(GROUP_POLL_MS / 2)).length > 0) {
    if (Date.now() >= deadline) return false;
    await sleep(GROUP_POLL_MS);
  }
  return true;
}
