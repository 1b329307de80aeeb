import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";
import type { ResourcesResponse, ServiceState } from "../../shared/services.ts";
import type { Db } from "../db/connection.ts";
import type { EventBus } from "../events/bus.ts";
import { cellPortEnv, type NamedPort, SERVICE_HOST, serviceOwnEnv, serviceUrl } from "./env.ts";
import { ServiceLog } from "./log.ts";
import { PortAllocator, PortRepo } from "./ports.ts";
import { bootId, readStat, signalGroup } from "./proc.ts";
import { type AgentUsageSource, ResourceSampler } from "./resources.ts";
import { ServiceRunner } from "./runner.ts";
import { ServiceRepo, type ServiceRow } from "./service-repo.ts";
import { parseSpec, portRequests, readyCheckOf, type ServiceSpec, specOf, startOrder } from "./spec.ts";

export interface ServicesOptions {
  db: Db;
  bus: EventBus;
  /** `<hive home>/logs`: each service logs to `services/<cellId>/<name>.log` under it. */
  logsDir: string;
  /** The host Hive listens on: ports are bind-tested there and service URLs point at it. */
  host: string;
  portRange?: [number, number];
  cells: { get(id: string): Cell | undefined; list(): Cell[] };
  /** How often CPU and memory are sampled (default every few seconds). */
  resourceIntervalMs?: number;
  /** The workspaces' OpenCode servers, whose use the resource view shares out among cells. */
  agentUsage?: AgentUsageSource;
}

interface Entry {
  runner: ServiceRunner;
  log: ServiceLog;
}

/**
 * Every cell's services: provisions them from the template (spec + ports), runs them through one
 * ServiceRunner each, records their state in SQLite, adopts them after a Hive restart, and stops
 * them all on shutdown. Emits `service.updated` on every change.
 */
export class Services {
  readonly ports: PortAllocator;
  readonly resources: ResourceSampler;
  private readonly repo: ServiceRepo;
  private readonly live = new Map<string, Map<string, Entry>>();

  constructor(private readonly opts: ServicesOptions) {
    this.repo = new ServiceRepo(opts.db);
    this.ports = new PortAllocator(new PortRepo(opts.db), { host: opts.host, range: opts.portRange });
    this.resources = new ResourceSampler({
      db: opts.db,
      cells: opts.cells,
      serviceGroups: (cellId) => this.processGroups(cellId),
      agents: opts.agentUsage,
      intervalMs: opts.resourceIntervalMs,
    });
    opts.bus.on("cell.removed", ({ cellId }) => void this.dropCell(cellId));
  }

  /** At Hive's start: adopts or restarts what should be running (see recover), starts sampling resources. */
  activate(): void {
    this.recover();
    this.resources.start();
  }

  list(cellId: string): ServiceState[] {
    const ports = this.ports.forCell(cellId);
    const rows = this.repo.forCell(cellId);
    if (rows.length === 0 && !this.opts.cells.get(cellId)) {
      throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`);
    }
    return rows.map((row) => this.toState(row, ports));
  }

  /** The cell's CPU and memory: the latest sample and the history of the last `minutes`. */
  resourcesOf(cellId: string, minutes: number): ResourcesResponse {
    const cell = this.opts.cells.get(cellId);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`);
    return {
      cellId,
      intervalMs: this.resources.intervalMs,
      latest: this.resources.repo.latest(cellId),
      history: this.resources.repo.since(cellId, Date.now() - minutes * 60_000),
      agentServer: this.resources.agentServer(cell.workspaceId),
    };
  }

  get(cellId: string, name: string): ServiceState {
    const row = this.row(cellId, name);
    return this.toState(row, this.ports.forCell(cellId));
  }

  /**
   * Records the template's services for the cell and allocates all their ports, so that every step,
   * terminal and the agent see the same `$HIVE_PORT_*` from the first service on. Idempotent.
   */
  async prepare(cell: Cell, template: Template): Promise<void> {
    const names = startOrder(template.services);
    for (const row of this.repo.forCell(cell.id)) {
      if (!names.includes(row.name)) await this.remove(cell.id, row.name);
    }
    const specs = names.map((name) => specOf(cell, template, name, template.services[name]!));
    for (const spec of specs) {
      const before = this.repo.forCell(cell.id).find((r) => r.name === spec.name)?.spec;
      const json = JSON.stringify(spec);
      this.repo.upsertSpec(cell.id, spec.name, json);
      const entry = this.live.get(cell.id)?.get(spec.name);
      // A changed spec takes effect on the next start; a running service keeps what it runs with.
      if (entry && before !== json && !entry.runner.running) this.forget(cell.id, spec.name);
    }
    await this.allocatePorts(cell.id, template);
  }

  /** Allocates every port the template's services need (kept when already allocated). Needs no worktree. */
  async allocatePorts(cellId: string, template: Template): Promise<void> {
    await this.ports.allocate(cellId, portRequests(template));
  }

  /** Starts a service (if it is not running) and waits until it is ready; the step detail says how. */
  async ensure(
    cellId: string,
    name: string,
    signal?: AbortSignal,
    progress?: (line: string) => void,
  ): Promise<string> {
    const { runner, log } = this.entry(cellId, name);
    this.repo.setDesired(cellId, name, "running");
    const started = Date.now();
    const unsubscribe = progress ? log.onOutput((text) => progress(lastLine(text))) : undefined;
    try {
      runner.start();
      await runner.waitReady(runner.spec.readyTimeoutMs, signal);
    } finally {
      unsubscribe?.();
    }
    const port = this.ports.forCell(cellId).find((p) => p.service === name && p.name === "")?.port;
    return `ready${port ? ` on port ${port}` : ""} in ${Date.now() - started} ms`;
  }

  start(cellId: string, name: string): ServiceState {
    this.assertLive(cellId);
    const { runner } = this.entry(cellId, name);
    this.repo.setDesired(cellId, name, "running");
    runner.start();
    return this.get(cellId, name);
  }

  async stop(cellId: string, name: string): Promise<ServiceState> {
    this.row(cellId, name);
    this.repo.setDesired(cellId, name, "stopped");
    // A service never started in this Hive process has nothing to stop (recover() ended strays).
    await this.live.get(cellId)?.get(name)?.runner.stop();
    return this.get(cellId, name);
  }

  async restart(cellId: string, name: string): Promise<ServiceState> {
    await this.stop(cellId, name);
    return this.start(cellId, name);
  }

  /** Starts every service in dependency order, each once the ones before it are ready; returns at once. */
  startAll(cellId: string): ServiceState[] {
    this.assertLive(cellId);
    const order = this.order(cellId);
    for (const name of order) this.repo.setDesired(cellId, name, "running");
    void (async () => {
      for (const name of order) {
        try {
          await this.ensure(cellId, name);
        } catch {
          return; // its status says why; dependents stay stopped
        }
      }
    })();
    return this.list(cellId);
  }

  /** Stops every service, dependents before what they depend on. */
  async stopAll(cellId: string): Promise<ServiceState[]> {
    for (const name of this.order(cellId).reverse()) await this.stop(cellId, name);
    return this.list(cellId);
  }

  async restartAll(cellId: string): Promise<ServiceState[]> {
    await this.stopAll(cellId);
    return this.startAll(cellId);
  }

  /** Delete and archive: stops everything; a deleted cell also gives back its ports, rows and logs. */
  async teardown(cellId: string, workflow: "delete" | "archive"): Promise<string> {
    const names = this.order(cellId);
    await this.stopAll(cellId);
    if (workflow === "archive") return `stopped ${names.length} service(s)`;
    for (const name of names) await this.remove(cellId, name);
    this.ports.release(cellId);
    rmSync(join(this.opts.logsDir, "services", cellId), { recursive: true, force: true });
    return `stopped ${names.length} service(s), released their ports`;
  }

  /** `$HIVE_PORT_<SERVICE>` and `$HIVE_URL_<SERVICE>` for the cell's terminals, agent and setup. */
  env(cellId: string): Record<string, string> {
    return cellPortEnv(this.ports.forCell(cellId));
  }

  /** A service's log (file and live screen), for the log terminal and the API. */
  log(cellId: string, name: string): ServiceLog {
    return this.entry(cellId, name).log;
  }

  /** Process group ids of the cell's running services (each service's pid leads its own group). */
  processGroups(cellId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, e] of this.live.get(cellId) ?? []) {
      if (e.runner.identity) out.set(name, e.runner.identity.pid);
    }
    return out;
  }

  /**
   * After a Hive start: every service that should be running is adopted when its recorded process
   * still lives (same pid, start time and boot), else started again on the same ports. Processes of
   * services that should not run are ended.
   */
  recover(): void {
    const boot = bootId();
    for (const row of this.repo.all()) {
      const identity =
        row.pid !== null && row.pidStartTicks !== null && row.pidBootId === boot
          ? { pid: row.pid, startTicks: row.pidStartTicks }
          : undefined;
      const cell = this.opts.cells.get(row.cellId);
      const wanted =
        row.desired === "running" &&
        cell !== undefined &&
        cell.status !== "archived" &&
        cell.status !== "deleting";
      if (!wanted || !row.spec) {
        if (identity && readStat(identity.pid)?.startTicks === identity.startTicks)
          signalGroup(identity.pid, "SIGKILL");
        continue;
      }
      const { runner } = this.entry(row.cellId, row.name);
      if (!(identity && runner.adopt(identity, row.status === "ready"))) runner.start();
    }
  }

  /** Hive is stopping: every service's process group is stopped (they come back on the next start). */
  async shutdown(): Promise<void> {
    this.resources.stop();
    const all = [...this.live.values()].flatMap((m) => [...m.values()]);
    await Promise.all(all.map((e) => e.runner.stop()));
    for (const e of all) {
      e.runner.dispose();
      e.log.dispose();
    }
    this.live.clear();
  }

  /** A safety net behind stop_services: whatever still runs for a cell whose record is gone is stopped. */
  private async dropCell(cellId: string): Promise<void> {
    const entries = [...(this.live.get(cellId)?.values() ?? [])];
    this.live.delete(cellId);
    await Promise.all(entries.map((e) => e.runner.stop()));
    for (const e of entries) {
      e.runner.dispose();
      e.log.dispose();
    }
  }

  /** Services run only in a live cell: an archived or departing one must be restored first. */
  private assertLive(cellId: string): void {
    const cell = this.opts.cells.get(cellId);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`);
    if (cell.status === "archived" || cell.status === "deleting") {
      throw new HiveError(
        "CELL_STATE",
        `Cell '${cell.name}' is ${cell.status}; its services start only in a live cell.`,
      );
    }
  }

  private order(cellId: string): string[] {
    const rows = this.repo.forCell(cellId);
    const deps: Record<string, { dependsOn?: string[] }> = {};
    for (const r of rows) deps[r.name] = { dependsOn: r.spec ? parseSpec(r.spec).dependsOn : [] };
    return startOrder(deps);
  }

  private row(cellId: string, name: string): ServiceRow {
    const rows = this.repo.forCell(cellId);
    const row = rows.find((r) => r.name === name);
    if (!row) {
      if (!this.opts.cells.get(cellId)) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`);
      throw new HiveError("NOT_FOUND", `Cell ${cellId} has no service '${name}'.`, {
        services: rows.map((r) => r.name),
      });
    }
    return row;
  }

  private entry(cellId: string, name: string): Entry {
    const existing = this.live.get(cellId)?.get(name);
    if (existing) return existing;
    const row = this.row(cellId, name);
    if (!row.spec)
      throw new HiveError("CELL_STATE", `Service '${name}' of cell ${cellId} was never provisioned.`);
    const spec = parseSpec(row.spec);
    const log = new ServiceLog(join(this.opts.logsDir, "services", cellId, `${name}.log`));
    const runner = new ServiceRunner(cellId, spec, {
      log,
      env: () => this.processEnv(cellId, spec),
      check: () => readyCheckOf(spec, this.processEnv(cellId, spec), SERVICE_HOST),
      onChange: (r) => this.persist(r),
    });
    // Restart count and last failure survive a Hive restart.
    runner.restarts = row.restarts;
    const cellEntries = this.live.get(cellId) ?? new Map<string, Entry>();
    this.live.set(cellId, cellEntries);
    const entry = { runner, log };
    cellEntries.set(name, entry);
    return entry;
  }

  private processEnv(cellId: string, spec: ServiceSpec): Record<string, string> {
    const ports = this.ports.forCell(cellId);
    const worktree = this.opts.cells.get(cellId)?.worktreePath;
    return {
      ...(process.env as Record<string, string>),
      HIVE_CELL_ID: cellId,
      ...(worktree ? { HIVE_WORKTREE: worktree } : {}),
      ...cellPortEnv(ports),
      ...spec.env,
      ...serviceOwnEnv(ports, spec.name),
    };
  }

  private persist(r: ServiceRunner): void {
    const saved = this.repo.saveRuntime(r.cellId, r.spec.name, {
      status: r.status,
      pid: r.identity?.pid ?? null,
      pidStartTicks: r.identity?.startTicks ?? null,
      pidBootId: r.identity ? bootId() : null,
      restarts: r.restarts,
      exitCode: r.exitCode,
      detail: r.detail,
    });
    // A runner outliving its row (the cell record went first) has nobody left to tell.
    if (saved) this.opts.bus.emit("service.updated", { service: this.get(r.cellId, r.spec.name) });
  }

  private async remove(cellId: string, name: string): Promise<void> {
    const entry = this.live.get(cellId)?.get(name);
    if (entry) await entry.runner.stop();
    this.forget(cellId, name);
    this.repo.delete(cellId, name);
    this.ports.release(cellId, name);
    this.opts.bus.emit("service.removed", { cellId, name });
  }

  private forget(cellId: string, name: string): void {
    const entry = this.live.get(cellId)?.get(name);
    if (!entry) return;
    entry.runner.dispose();
    entry.log.dispose();
    this.live.get(cellId)?.delete(name);
  }

  private toState(row: ServiceRow, cellPorts: NamedPort[]): ServiceState {
    const own = cellPorts.filter((p) => p.service === row.name);
    const main = own.find((p) => p.name === "")?.port ?? null;
    return {
      cellId: row.cellId,
      name: row.name,
      status: row.status,
      port: main,
      ports: Object.fromEntries(own.map((p) => [p.name, p.port])),
      url: main === null ? null : serviceUrl(main),
      proxyPath: main === null ? null : `/cells/${row.cellId}/proxy/${row.name}/`,
      pid: row.pid,
      restarts: row.restarts,
      exitCode: row.exitCode,
      detail: row.detail,
      updatedAt: row.updatedAt ?? "",
    };
  }
}

function lastLine(text: string): string {
  const lines = text.trimEnd().split("\n");
  return (lines[lines.length - 1] ?? "").slice(0, 300);
}
