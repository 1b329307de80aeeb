import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootId, readStat, scanProcesses } from "../services/proc.ts";

/** What a recorded group was started for, so the reaper can say what it ended and where. */
export interface GroupOwner {
  cellId: string;
  command: string;
  logFile: string;
}

interface GroupRecord extends GroupOwner {
  pgid: number;
  startTicks: number;
  bootId: string;
}

export interface ReapedGroup extends GroupOwner {
  pgid: number;
  processes: number;
}

/**
 * The process groups of running setup commands, one small file each under Hive's `run/`. A Hive ended by
 * SIGKILL cannot kill its setup commands (a death signal would reach only the shell, not the `npm install`
 * it started), so the next Hive reads these records at start and ends whatever of those groups still runs.
 */
export class SetupProcessGroups {
  constructor(private readonly dir: string) {}

  record(pgid: number, owner: GroupOwner): void {
    const stat = readStat(pgid);
    if (!stat) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const record: GroupRecord = { ...owner, pgid, startTicks: stat.startTicks, bootId: bootId() };
    writeFileSync(this.file(pgid), JSON.stringify(record));
  }

  forget(pgid: number): void {
    rmSync(this.file(pgid), { force: true });
  }

  /**
   * Kills every recorded group that still has processes. A group's id cannot be handed to another process
   * while any member lives, and members start after their leader, so a process in the group that started
   * no earlier than the recorded leader, since the same boot, is one of ours; unless a process with the
   * group's id as its pid started at another time: then all of ours ended and the id was given out again.
   */
  reap(): ReapedGroup[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const records = names.flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(join(this.dir, name), "utf8")) as GroupRecord];
      } catch {
        return [];
      } finally {
        rmSync(join(this.dir, name), { force: true });
      }
    });
    if (records.length === 0) return [];
    const table = scanProcesses();
    const reaped: ReapedGroup[] = [];
    for (const r of records) {
      if (r.bootId !== bootId()) continue;
      const leader = table.find((p) => p.pid === r.pgid);
      if (leader && leader.startTicks !== r.startTicks) continue;
      const members = table.filter(
        (p) => p.pgid === r.pgid && p.startTicks >= r.startTicks && p.state !== "Z",
      );
      if (members.length === 0) continue;
      try {
        process.kill(-r.pgid, "SIGKILL");
      } catch {
        continue;
      }
      try {
        appendFileSync(
          r.logFile,
          `\n[Hive restarted: ended \`${r.command}\` left running by the previous Hive]\n`,
        );
      } catch {
        // The log is gone with its cell; the kill is what matters.
      }
      reaped.push({
        cellId: r.cellId,
        command: r.command,
        logFile: r.logFile,
        pgid: r.pgid,
        processes: members.length,
      });
    }
    return reaped;
  }

  private file(pgid: number): string {
    return join(this.dir, `${pgid}.json`);
  }
}
