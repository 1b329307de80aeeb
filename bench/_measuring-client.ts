import { spawnSync } from "node:child_process";

/**
 * Re-runs this bench in a process with V8's single-threaded GC, unless it is one already; the calling
 * process then only waits for it and exits with its status.
 *
 * A terminal bench's own process is the measuring client: it stands in for a browser on the person's
 * own machine, yet here it shares this box's two cores with Hive. With the default GC its parallel GC
 * threads made it a heavy guest: reading a flood took it 25-32% of a core against 10-25%, and its own GC
 * pauses (up to 28 ms) made up most of the worst echoes under flood in bench/echo-latency.
 */
export function measureWithSingleThreadedGc(): void {
  if (process.execArgv.includes("--single-threaded-gc")) return;
  const r = spawnSync(
    process.execPath,
    ["--single-threaded-gc", ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: "inherit",
    },
  );
  process.exit(r.status ?? 1);
}
