import { readdirSync, readFileSync } from "node:fs";

/**
 * The Linux process table as Hive needs it: identity of a process across a Hive restart (pid + start
 * time + boot id) and CPU/memory for the resource view. Read straight from /proc: one scan serves
 * every cell, where a per-pid library would spawn `ps` per process.
 */

export interface ProcStat {
  pid: number;
  /** The command name (at most 15 characters). */
  name: string;
  ppid: number;
  pgid: number;
  /** The foreground process group of its controlling terminal (-1 without one). */
  tpgid: number;
  /** Start time in clock ticks since boot: with the boot id, tells a reused pid from ours. */
  startTicks: number;
  /** user + system CPU time, in clock ticks. */
  cpuTicks: number;
  rssBytes: number;
  /** Z: exited but not yet reaped. */
  state: string;
}

/**
 * /proc gives CPU times in USER_HZ, which Linux fixes at 100 on every architecture Node runs on. Asking
 * `getconf` instead cost two synchronous spawns, 50 ms of a PTY host's event loop (every terminal's
 * output and echo) the first time a paused terminal was polled.
 */
const CLOCK_TICKS = 100;
let cachedPageSize: number | undefined;

/** The page size, from two views of this process's own size: statm counts pages, status kilobytes. */
function pageSize(): number {
  if (cachedPageSize === undefined) {
    const pages = Number(readFileSync("/proc/self/statm", "utf8").split(" ")[0]);
    const kb = Number(/VmSize:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
    // A power of two: the size may change by a page or two between the reads.
    const size = 2 ** Math.round(Math.log2((kb * 1024) / pages));
    cachedPageSize = Number.isFinite(size) && size >= 4096 ? size : 4096;
  }
  return cachedPageSize;
}

export function clockTicksPerSecond(): number {
  return CLOCK_TICKS;
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
    name: text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
    state: f[0]!,
    ppid: Number(f[1]),
    pgid: Number(f[2]),
    tpgid: Number(f[5]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTicks: Number(f[19]),
    rssBytes: Number(f[21]) * pageSize(),
  };
}

/** A process's children (Linux 3.5+; none when the kernel does not say). */
export function childrenOf(pid: number): ProcStat[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {
    return [];
  }
  return text
    .split(" ")
    .filter(Boolean)
    .flatMap((c) => readStat(Number(c)) ?? []);
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
