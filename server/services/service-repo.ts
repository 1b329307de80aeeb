import type { ServiceStatus } from "../../shared/services.ts";
import type { Db } from "../db/connection.ts";

export interface ServiceRow {
  cellId: string;
  name: string;
  status: ServiceStatus;
  spec: string | null;
  /** Whether the service should be running: a Hive restart brings back exactly these. */
  desired: "running" | "stopped";
  pid: number | null;
  pidStartTicks: number | null;
  pidBootId: string | null;
  restarts: number;
  exitCode: number | null;
  detail: string | null;
  updatedAt: string | null;
}

type Row = {
  cell_id: string;
  name: string;
  status: ServiceStatus;
  spec: string | null;
  desired: "running" | "stopped";
  pid: number | null;
  pid_start_ticks: number | null;
  pid_boot_id: string | null;
  restarts: number;
  exit_code: number | null;
  detail: string | null;
  updated_at: string | null;
};

const toRow = (r: Row): ServiceRow => ({
  cellId: r.cell_id,
  name: r.name,
  status: r.status,
  spec: r.spec,
  desired: r.desired,
  pid: r.pid,
  pidStartTicks: r.pid_start_ticks,
  pidBootId: r.pid_boot_id,
  restarts: r.restarts,
  exitCode: r.exit_code,
  detail: r.detail,
  updatedAt: r.updated_at,
});

export type ServiceRuntime = Pick<
  ServiceRow,
  "status" | "pid" | "pidStartTicks" | "pidBootId" | "restarts" | "exitCode" | "detail"
>;

/** The `cell_services` table: one row per service of a cell, with its spec and its live process. */
export class ServiceRepo {
  constructor(private readonly db: Db) {}

  forCell(cellId: string): ServiceRow[] {
    return (
      this.db.prepare("SELECT * FROM cell_services WHERE cell_id = ? ORDER BY id").all(cellId) as Row[]
    ).map(toRow);
  }

  all(): ServiceRow[] {
    return (this.db.prepare("SELECT * FROM cell_services ORDER BY id").all() as Row[]).map(toRow);
  }

  /** Records the spec a service runs with; a new service starts out stopped. */
  upsertSpec(cellId: string, name: string, spec: string): void {
    this.db
      .prepare(
        `INSERT INTO cell_services (cell_id, name, status, spec, updated_at) VALUES (?, ?, 'stopped', ?, ?)
         ON CONFLICT (cell_id, name) DO UPDATE SET spec = excluded.spec`,
      )
      .run(cellId, name, spec, new Date().toISOString());
  }

  setDesired(cellId: string, name: string, desired: "running" | "stopped"): void {
    this.db
      .prepare("UPDATE cell_services SET desired = ? WHERE cell_id = ? AND name = ?")
      .run(desired, cellId, name);
  }

  /** Records the live state; false when the row is gone (its cell was deleted). */
  saveRuntime(cellId: string, name: string, r: ServiceRuntime): boolean {
    const info = this.db
      .prepare(
        `UPDATE cell_services SET status = ?, pid = ?, pid_start_ticks = ?, pid_boot_id = ?, restarts = ?,
           exit_code = ?, detail = ?, updated_at = ? WHERE cell_id = ? AND name = ?`,
      )
      .run(
        r.status,
        r.pid,
        r.pidStartTicks,
        r.pidBootId,
        r.restarts,
        r.exitCode,
        r.detail,
        new Date().toISOString(),
        cellId,
        name,
      );
    return info.changes > 0;
  }

  delete(cellId: string, name: string): void {
    this.db.prepare("DELETE FROM cell_services WHERE cell_id = ? AND name = ?").run(cellId, name);
  }
}
