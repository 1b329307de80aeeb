import { readlinkSync } from "node:fs";
import { sep } from "node:path";
import type { Cell } from "../../shared/records.ts";
import type { ResourceSample } from "../../shared/services.ts";
import type { Db } from "../db/connection.ts";
import { clockTicksPerSecond, type ProcStat, scanProcesses } from "./proc.ts";

export const SAMPLE_INTERVAL_MS = 5_000;
export const HISTORY_MS = 24 * 60 * 60 * 1000;

type Usage = { cpuPercent: number; rssBytes: number; processes: number };

type Row = {
  cell_id: string;
  at: number;
  cpu_percent: number;
  rss_bytes: number;
  processes: number;
  by_source: string;
};

const toSample = (r: Row): ResourceSample => ({
  cellId: r.cell_id,
  at: new Date(r.at).toISOString(),
  cpuPercent: r.cpu_percent,
  rssBytes: r.rss_bytes,
  processes: r.processes,
  bySource: JSON.parse(r.by_source) as ResourceSample["bySource"],
});

/** The `cell_resource_samples` table: a day of samples per cell, older rows pruned as new ones come. */
export class ResourceRepo {
  constructor(private readonly db: Db) {}

  insert(s: ResourceSample): void {
    this.db
      .prepare(
        "INSERT INTO cell_resource_samples (cell_id, at, cpu_percent, rss_bytes, processes, by_source) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(s.cellId, Date.parse(s.at), s.cpuPercent, s.rssBytes, s.processes, JSON.stringify(s.bySource));
  }

  since(cellId: string, sinceMs: number): ResourceSample[] {
    return (
      this.db
        .prepare("SELECT * FROM cell_resource_samples WHERE cell_id = ? AND at >= ? ORDER BY at")
        .all(cellId, sinceMs) as Row[]
    ).map(toSample);
  }

  latest(cellId: string): ResourceSample | null {
    const row = this.db
      .prepare("SELECT * FROM cell_resource_samples WHERE cell_id = ? ORDER BY at DESC LIMIT 1")
      .get(cellId) as Row | undefined;
    return row ? toSample(row) : null;
  }

  pruneBefore(ms: number): void {
    this.db.prepare("DELETE FROM cell_resource_samples WHERE at < ?").run(ms);
  }
}

export interface ResourceSamplerOptions {
  db: Db;
  cells: { list(): Cell[] };
  /** Each running service's process group, by service name. */
  serviceGroups(cellId: string): Map<string, number>;
  intervalMs?: number;
}

/**
 * Samples CPU and memory of each cell's processes from one scan of /proc: every service's process
 * group ("service:<name>"), and every other process working inside the cell's worktree ("worktree":
 * its shells, what they run, and the commands its agent runs there). The agent's OpenCode server is
 * shared by the workspace's cells, so it belongs to no single cell.
 */
export class ResourceSampler {
  readonly intervalMs: number;
  readonly repo: ResourceRepo;
  private timer: NodeJS.Timeout | undefined;
  private last = new Map<number, { startTicks: number; cpuTicks: number }>();
  private lastAt = 0;

  constructor(private readonly opts: ResourceSamplerOptions) {
    this.intervalMs = opts.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.repo = new ResourceRepo(opts.db);
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample of every live cell, recorded; returns what was recorded. */
  sample(): ResourceSample[] {
    const now = Date.now();
    const table = scanProcesses();
    const elapsedTicks = this.lastAt ? ((now - this.lastAt) / 1000) * clockTicksPerSecond() : 0;
    const cpu = (p: ProcStat) => {
      const prev = this.last.get(p.pid);
      if (!prev || prev.startTicks !== p.startTicks || elapsedTicks <= 0) return 0;
      return Math.max(0, ((p.cpuTicks - prev.cpuTicks) / elapsedTicks) * 100);
    };
    const cwdOf = (pid: number) => {
      try {
        return readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        return undefined; // gone, or not ours to read
      }
    };
    const cwds = new Map<number, string | undefined>();
    const out: ResourceSample[] = [];
    for (const cell of this.opts.cells.list()) {
      if (cell.status === "archived" || cell.status === "deleting") continue;
      const groups = this.opts.serviceGroups(cell.id);
      const sourceOfGroup = new Map([...groups].map(([name, pgid]) => [pgid, `service:${name}`]));
      const root = cell.worktreePath;
      const bySource: Record<string, Usage> = {};
      for (const p of table) {
        if (p.state === "Z") continue;
        let source = sourceOfGroup.get(p.pgid);
        if (!source && root) {
          if (!cwds.has(p.pid)) cwds.set(p.pid, cwdOf(p.pid));
          const cwd = cwds.get(p.pid);
          if (cwd && (cwd === root || cwd.startsWith(root + sep))) source = "worktree";
        }
        if (!source) continue;
        const u = bySource[source] ?? { cpuPercent: 0, rssBytes: 0, processes: 0 };
        bySource[source] = u;
        u.cpuPercent += cpu(p);
        u.rssBytes += p.rssBytes;
        u.processes++;
      }
      const usages = Object.values(bySource);
      if (usages.length === 0) continue;
      const sample: ResourceSample = {
        cellId: cell.id,
        at: new Date(now).toISOString(),
        cpuPercent: round(usages.reduce((n, u) => n + u.cpuPercent, 0)),
        rssBytes: usages.reduce((n, u) => n + u.rssBytes, 0),
        processes: usages.reduce((n, u) => n + u.processes, 0),
        bySource: Object.fromEntries(
          Object.entries(bySource).map(([k, u]) => [k, { ...u, cpuPercent: round(u.cpuPercent) }]),
        ),
      };
      this.repo.insert(sample);
      out.push(sample);
    }
    this.last = new Map(table.map((p) => [p.pid, { startTicks: p.startTicks, cpuTicks: p.cpuTicks }]));
    this.lastAt = now;
    this.repo.pruneBefore(now - HISTORY_MS);
    return out;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
