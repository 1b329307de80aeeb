import { createServer } from "node:net";
import { HiveError } from "../../shared/errors.ts";
import type { Db } from "../db/connection.ts";
import type { NamedPort } from "./env.ts";

export interface PortRequest {
  service: string;
  name: string;
  /** A port the template asked for: tried first, skipped when taken. */
  preferred?: number;
}

/** The `service_ports` table: one row per allocated port, the port itself the primary key. */
export class PortRepo {
  constructor(private readonly db: Db) {}

  forCell(cellId: string): NamedPort[] {
    return this.db
      .prepare("SELECT service, name, port FROM service_ports WHERE cell_id = ? ORDER BY service, name")
      .all(cellId) as NamedPort[];
  }

  allPorts(): Set<number> {
    return new Set((this.db.prepare("SELECT port FROM service_ports").pluck().all() as number[]) ?? []);
  }

  insert(cellId: string, p: NamedPort): void {
    this.db
      .prepare(
        "INSERT INTO service_ports (port, cell_id, service, name, allocated_at) VALUES (?, ?, ?, ?, ?)",
      )
      .run(p.port, cellId, p.service, p.name, new Date().toISOString());
  }

  releaseService(cellId: string, service: string): void {
    this.db.prepare("DELETE FROM service_ports WHERE cell_id = ? AND service = ?").run(cellId, service);
  }

  releaseCell(cellId: string): void {
    this.db.prepare("DELETE FROM service_ports WHERE cell_id = ?").run(cellId);
  }
}

/** Tries to listen on the port; true when nothing else holds it. */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PortAllocatorOptions {
  /** The host Hive listens on; ports are bind-tested there. */
  host: string;
  /** Inclusive range ports are taken from. */
  range?: [number, number];
}

/** Below Linux's ephemeral range (32768+), so outgoing connections never take a service's port. */
export const DEFAULT_PORT_RANGE: [number, number] = [21000, 29999];

/**
 * Hands out ports that no cell holds and nothing on the host listens on. Calls are serialized so
 * that cells created at the same moment cannot both probe a port free and take it twice; the table's
 * primary key is the last guard.
 */
export class PortAllocator {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly range: [number, number];
  private readonly hosts: string[];
  private cursor: number;

  constructor(
    private readonly repo: PortRepo,
    opts: PortAllocatorOptions,
  ) {
    this.range = opts.range ?? DEFAULT_PORT_RANGE;
    // A random start keeps Hives with other homes (and parallel test runs) from probing the same ports.
    this.cursor = this.range[0] + Math.floor(Math.random() * (this.range[1] - this.range[0] + 1));
    // Services often listen on every interface, so a port held there counts as taken too.
    this.hosts = [...new Set([opts.host, "0.0.0.0"])];
  }

  forCell(cellId: string): NamedPort[] {
    return this.repo.forCell(cellId);
  }

  /** Ensures each requested port is allocated (existing allocations are kept) and returns the cell's ports. */
  allocate(cellId: string, requests: PortRequest[]): Promise<NamedPort[]> {
    const run = this.queue.then(() => this.allocateNow(cellId, requests));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Gives back a cell's ports (all of them, or one service's). */
  release(cellId: string, service?: string): void {
    if (service === undefined) this.repo.releaseCell(cellId);
    else this.repo.releaseService(cellId, service);
  }

  private async allocateNow(cellId: string, requests: PortRequest[]): Promise<NamedPort[]> {
    const have = this.repo.forCell(cellId);
    const taken = this.repo.allPorts();
    for (const req of requests) {
      if (have.some((p) => p.service === req.service && p.name === req.name)) continue;
      let port: number | undefined;
      if (req.preferred !== undefined && !taken.has(req.preferred) && (await this.free(req.preferred))) {
        port = req.preferred;
      } else {
        port = await this.nextFree(taken);
      }
      this.repo.insert(cellId, { service: req.service, name: req.name, port });
      taken.add(port);
    }
    return this.repo.forCell(cellId);
  }

  private async free(port: number): Promise<boolean> {
    for (const host of this.hosts) if (!(await canBind(port, host))) return false;
    return true;
  }

  private async nextFree(taken: Set<number>): Promise<number> {
    const [lo, hi] = this.range;
    const size = hi - lo + 1;
    for (let i = 0; i < size; i++) {
      const port = lo + ((this.cursor - lo + i) % size);
      if (taken.has(port) || !(await this.free(port))) continue;
      this.cursor = port + 1 > hi ? lo : port + 1;
      return port;
    }
    throw new HiveError(
      "UNAVAILABLE",
      `no free port left in ${lo}-${hi}: every one is allocated to a cell or in use on the host`,
    );
  }
}
