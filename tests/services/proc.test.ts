import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { clockTicksPerSecond, readStat } from "../../server/services/proc.ts";

/** The process table's units agree with the system's own answers (without spawning getconf at run time). */
describe("process table units", () => {
  it("counts CPU in the system's clock ticks", () => {
    expect(clockTicksPerSecond()).toBe(Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })));
  });

  it("reports resident memory in bytes, as the kernel's own status does", () => {
    const stat = readStat(process.pid)!;
    const status = readFileSync("/proc/self/status", "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    // The two reads are moments apart: the resident size may move a little in between.
    expect(Math.abs(stat.rssBytes - rssKb * 1024)).toBeLessThan(0.05 * rssKb * 1024);
    expect(stat.rssBytes % Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }))).toBe(0);
  });
});
