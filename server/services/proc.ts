import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * The Linux process table as Hive needs it: identity of a process across a Hive restart (pid + start
 * time + boot id) and CPU/memory for the resource view. Read straight from /proc: one scan serves
 * every cell, where a per-pid library would spawn `ps` per process.
 */

export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot: with the boot id, tells a reused pid from ours. */
  startTicks: number;
  /** user + system CPU time, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  /** Z: exited but not yet reaped. */
  state: string;
}

let sysconf: { clockTicks: number; pageSize: number } | undefined;

function conf(): { clockTicks: number; pageSize: number } {
  if (!sysconf) {
    const get = (name: string, fallback: number) => {
      try {
        return Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim()) || fallback;
      } catch {
        return fallback;
      }
    };
    sysconf = { clockTicks: get("CLK_TCK", 100), pageSize: get("PAGESIZE", 4096) };
  }
  return sysconf;
}

export function clockTicksPerSecond(): number {
  return conf().clockTicks;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may itself contain spaces or parentheses.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: f[0]!,
    ppid: Number(f[1]),
    pgid: Number(f[2]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTicks: Number(f[19]),
    rssBytes: Number(f[21]) * conf().pageSize,
  };
}

/** Every process on the host (those that vanish mid-scan are skipped). */
export function scanProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const stat = readStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

let cachedBootId: string | undefined;

export function bootId(): string {
  cachedBootId ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  return cachedBootId;
}

let lastScan: { at: number; table: ProcStat[] } | undefined;

/** A scan at most `maxAgeMs` old: many groups polled at once (Hive stopping) share one read of /proc. */
export function recentScan(maxAgeMs: number): ProcStat[] {
  const now = Date.now();
  if (!lastScan || now - lastScan.at > maxAgeMs) lastScan = { at: now, table: scanProcesses() };
  return lastScan.table;
}

/** The live (non-zombie) processes of a process group. */
export function groupMembers(pgid: number, table: ProcStat[] = scanProcesses()): ProcStat[] {
  return table.filter((p) => p.pgid === pgid && p.state !== "Z");
}

/** True while any process of the group exists (zombies included: they are not reaped yet). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Sends a signal to a whole process group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
