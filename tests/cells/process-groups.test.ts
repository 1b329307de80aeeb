import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bootId, readStat } from "../../server/services/proc.ts";
import { SetupProcessGroups } from "../../server/setup/process-groups.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A real process leading its own group, as a setup command runs. */
function groupLeader(): number {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  child.unref();
  cleanups.push(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  });
  return child.pid!;
}

const alive = (pid: number) => {
  const s = readStat(pid);
  return s !== undefined && s.state !== "Z";
};

describe("setup process groups left by a killed Hive", () => {
  it("ends a recorded group that still runs, and leaves a group that only reuses its id", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hive-groups-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const groups = new SetupProcessGroups(dir);
    const owner = { cellId: "c1", command: "npm install", logFile: join(dir, "setup.log") };

    const ours = groupLeader();
    groups.record(ours, owner);
    // Another group now has an id a record names, but its leader started at another time: the id was
    // given out again after every process of the recorded group had ended.
    const theirs = groupLeader();
    const stat = readStat(theirs)!;
    writeFileSync(
      join(dir, `${theirs}.json`),
      JSON.stringify({
        ...owner,
        pgid: theirs,
        startTicks: stat.startTicks - 1,
        bootId: bootId(),
      }),
    );

    const reaped = groups.reap();
    expect(reaped.map((r) => r.pgid)).toEqual([ours]);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(ours)).toBe(false);
    expect(alive(theirs)).toBe(true);
  });
});
