import { readFileSync } from "node:fs";

/** Busy and total CPU ticks of the whole machine, from /proc/stat. */
function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/**
 * Waits until the whole machine has been nearly idle (under `busyShare` of its CPU) for `seconds` in a row, or
 * `timeoutMs` passes: a bench measures the path it names, not a start-up still burning CPU beside it (OpenCode's
 * own start, worth tens of seconds of a core, begins with a cell's agent session).
 */
export async function machineQuiet(seconds = 2, busyShare = 0.1, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < seconds && Date.now() < deadline) {
    const a = cpuTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTicks();
    quiet = (b.busy - a.busy) / Math.max(1, b.total - a.total) < busyShare ? quiet + 1 : 0;
  }
}
