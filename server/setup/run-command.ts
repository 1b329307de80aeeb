import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { plainTail } from "../../shared/plain-output.ts";
import type { GroupOwner, SetupProcessGroups } from "./process-groups.ts";

export interface CommandRun {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  logFile: string;
  signal: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Where the running group is recorded so a later Hive can end it if this one dies first. */
  groups?: { registry: SetupProcessGroups; owner: Omit<GroupOwner, "command" | "logFile"> };
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last lines of output, for error messages. */
  tail: string;
}

const TAIL_BYTES = 4000;
const KILL_GRACE_MS = 2000;
/**
 * A command's output past this much is not written to the setup log, but for its last LOG_END_BYTES: a
 * setup that loops printing must not fill the disk before its timeout ends it.
 */
export const SETUP_LOG_MAX_BYTES = 16 * 1024 * 1024;
const LOG_END_BYTES = 64 * 1024;

/** The setup log of one command: its output up to SETUP_LOG_MAX_BYTES, then only its end. */
class CappedLog {
  private readonly stream: WriteStream;
  private written = 0;
  private skipped = 0;
  private end: Buffer[] = [];
  private endBytes = 0;

  constructor(file: string, command: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: "a" });
    this.stream.write(`\n$ ${command}\n`);
  }

  write(buf: Buffer): void {
    const room = SETUP_LOG_MAX_BYTES - this.written;
    if (room > 0) {
      this.stream.write(buf.length <= room ? buf : buf.subarray(0, room));
      this.written += Math.min(buf.length, room);
      if (buf.length <= room) return;
      buf = buf.subarray(room);
    }
    this.skipped += buf.length;
    this.end.push(buf);
    this.endBytes += buf.length;
    while (this.endBytes - this.end[0]!.length >= LOG_END_BYTES) this.endBytes -= this.end.shift()!.length;
  }

  /** Resolves once everything is in the file (or writing it failed: the log is a courtesy). */
  close(status: string): Promise<void> {
    if (this.skipped > 0) {
      const end = Buffer.concat(this.end).subarray(-LOG_END_BYTES);
      const mb = ((this.skipped - end.length) / (1024 * 1024)).toFixed(1);
      this.stream.write(`\n[hive] ${mb} MB of output not kept in this log; its last ${end.length} bytes:\n`);
      this.stream.write(end);
    }
    return new Promise((resolve) => {
      this.stream.once("error", () => resolve());
      this.stream.end(`[${status}]\n`, () => resolve());
    });
  }
}

/**
 * Runs one setup command through the shell in its own process group, appending its output to the setup
 * log. On timeout or abort the whole group gets SIGTERM, then SIGKILL.
 */
export function runCommand(run: CommandRun): Promise<CommandResult> {
  const log = new CappedLog(run.logFile, run.command);
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", run.command], {
      cwd: run.cwd,
      env: run.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid)
      run.groups?.registry.record(child.pid, {
        ...run.groups.owner,
        command: run.command,
        logFile: run.logFile,
      });
    let tail = "";
    let timedOut = false;
    let aborted = false;
    const onData = (buf: Buffer) => {
      const text = buf.toString("utf8");
      log.write(buf);
      tail = (tail + text).slice(-TAIL_BYTES);
      run.onOutput?.(text);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, run.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    run.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => onData(Buffer.from(`${e.message}\n`)));
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      run.signal.removeEventListener("abort", onAbort);
      // Children the command left behind in its group go too: setup must not leak processes.
      killGroup("SIGKILL");
      if (child.pid) run.groups?.registry.forget(child.pid);
      const status = timedOut ? `timed out after ${run.timeoutMs} ms` : `exit ${exitCode ?? signal}`;
      // The log is whole by the time the result is known (a reader of it then sees the end).
      void log
        .close(status)
        .then(() => resolve({ exitCode, signal, timedOut, aborted, tail: plainTail(tail, 40) }));
    });
  });
}
