import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
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
 * Runs one setup command through the shell in its own process group, appending its output to the setup
 * log. On timeout or abort the whole group gets SIGTERM, then SIGKILL.
 */
export function runCommand(run: CommandRun): Promise<CommandResult> {
  mkdirSync(dirname(run.logFile), { recursive: true });
  const log = createWriteStream(run.logFile, { flags: "a" });
  log.write(`\n$ ${run.command}\n`);
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
      log.end(`[${status}]\n`);
      resolve({ exitCode, signal, timedOut, aborted, tail: plainTail(tail, 40) });
    });
  });
}
