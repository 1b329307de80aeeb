import { readlinkSync } from "node:fs";
import { sep } from "node:path";
import type { Cell } from "../../shared/records.ts";
import type { AgentServerUsage, ResourceSample } from "../../shared/services.ts";
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

/** The agents room's side: each workspace's OpenCode server, and whose agent kept it busy. */
export interface AgentUsageSource {
  /** Each running OpenCode server's pid, which leads its own process group. */
  servers(): { workspaceId: string; pid: number }[];
  /** The workspace's cells whose agent was busy at any time since `sinceMs`. */
  busyCells(workspaceId: string, sinceMs: number): string[];
}

export interface ResourceSamplerOptions {
  db: Db;
  cells: { list(): Cell[] };
  /** Each running service's process group, by service name. */
  serviceGroups(cellId: string): Map<string, number>;
  agents?: AgentUsageSource;
  intervalMs?: number;
}

/**
 * Samples CPU and memory of each cell's processes from one scan of /proc: every service's process
 * group ("service:<name>"), and every other process working inside the cell's worktree ("worktree":
 * its shells, what they run, and the commands its agent runs there). The workspace's OpenCode server
 * serves all its cells at once, so each cell gets a share of it ("agent", see ResourceSampleSchema):
 * its CPU goes to the cells whose agents were busy during the interval, evenly, or, with none busy, to
 * the workspace's shared overhead (agentServer); its memory is shown as shared.
 */
export class ResourceSampler {
  readonly intervalMs: number;
  readonly repo: ResourceRepo;
  private timer: NodeJS.Timeout | undefined;
  private last = new Map<number, { startTicks: number; cpuTicks: number }>();
  private lastAt = 0;
  /** The latest whole-server figures per workspace (kept in memory only: one line per workspace). */
  private readonly servers = new Map<string, AgentServerUsage>();

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
    const cwdOfCached = (pid: number) => {
      if (!cwds.has(pid)) cwds.set(pid, cwdOf(pid));
      return cwds.get(pid);
    };
    const live = this.opts.cells.list().filter((c) => c.status !== "archived" && c.status !== "deleting");
    const shares = this.agentShares(table, live, cpu, cwdOfCached, now);
    const out: ResourceSample[] = [];
    for (const cell of live) {
      const groups = this.opts.serviceGroups(cell.id);
      const sourceOfGroup = new Map([...groups].map(([name, pgid]) => [pgid, `service:${name}`]));
      const root = cell.worktreePath;
      const bySource: Record<string, Usage> = {};
      for (const p of table) {
        if (p.state === "Z") continue;
        let source = sourceOfGroup.get(p.pgid);
        if (!source && root && within(cwdOfCached(p.pid), root)) source = "worktree";
        if (!source) continue;
        const u = bySource[source] ?? { cpuPercent: 0, rssBytes: 0, processes: 0 };
        bySource[source] = u;
        u.cpuPercent += cpu(p);
        u.rssBytes += p.rssBytes;
        u.processes++;
      }
      const own = Object.values(bySource);
      const share = shares.get(cell.id);
      if (share) bySource.agent = share;
      if (own.length === 0 && !share) continue;
      const sample: ResourceSample = {
        cellId: cell.id,
        at: new Date(now).toISOString(),
        cpuPercent: round(own.reduce((n, u) => n + u.cpuPercent, share?.cpuPercent ?? 0)),
        rssBytes: own.reduce((n, u) => n + u.rssBytes, 0),
        processes: own.reduce((n, u) => n + u.processes, 0),
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

  /** The latest figures of a workspace's OpenCode server as a whole, if it ran at the last sample. */
  agentServer(workspaceId: string): AgentServerUsage | null {
    return this.servers.get(workspaceId) ?? null;
  }

  /**
   * Each workspace's OpenCode server (its process group, minus processes working in a worktree, which
   * count for that cell), and each live cell's share of it.
   */
  private agentShares(
    table: ProcStat[],
    live: Cell[],
    cpu: (p: ProcStat) => number,
    cwdOf: (pid: number) => string | undefined,
    now: number,
  ): Map<string, Usage> {
    const shares = new Map<string, Usage>();
    this.servers.clear();
    const agents = this.opts.agents;
    if (!agents) return shares;
    const roots = live.flatMap((c) => (c.worktreePath ? [c.worktreePath] : []));
    const since = this.lastAt || now - this.intervalMs;
    for (const { workspaceId, pid } of agents.servers()) {
      const use: Usage = { cpuPercent: 0, rssBytes: 0, processes: 0 };
      for (const p of table) {
        if (p.pgid !== pid || p.state === "Z") continue;
        const cwd = cwdOf(p.pid);
        if (roots.some((r) => within(cwd, r))) continue;
        use.cpuPercent += cpu(p);
        use.rssBytes += p.rssBytes;
        use.processes++;
      }
      if (use.processes === 0) continue;
      const cells = live.filter((c) => c.workspaceId === workspaceId);
      const busy = new Set(agents.busyCells(workspaceId, since));
      const busyCount = cells.filter((c) => busy.has(c.id)).length;
      for (const c of cells) {
        const cpuShare = busy.has(c.id) ? use.cpuPercent / busyCount : 0;
        shares.set(c.id, { cpuPercent: round(cpuShare), rssBytes: use.rssBytes, processes: use.processes });
      }
      this.servers.set(workspaceId, {
        ...use,
        cpuPercent: round(use.cpuPercent),
        workspaceId,
        at: new Date(now).toISOString(),
        busyCells: busyCount,
      });
    }
    return shares;
  }
}

function within(path: string | undefined, root: string): boolean {
  return path !== undefined && (path === root || path.startsWith(root + sep));
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
