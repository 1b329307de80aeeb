import type { StepOutcome, TimingEvent } from "../../shared/records.ts";
import type { Db } from "./connection.ts";

type Row = {
  id: number;
  cell_id: string;
  cell_name: string;
  workspace_id: string;
  workflow: TimingEvent["workflow"];
  attempt: number;
  step: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  outcome: StepOutcome;
  detail: string | null;
};

const toEvent = (r: Row): TimingEvent => ({
  id: r.id,
  cellId: r.cell_id,
  cellName: r.cell_name,
  workspaceId: r.workspace_id,
  workflow: r.workflow,
  attempt: r.attempt,
  step: r.step,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  durationMs: r.duration_ms,
  outcome: r.outcome,
  detail: r.detail,
});

export class TimingRepo {
  constructor(private readonly db: Db) {}

  start(e: Omit<TimingEvent, "id" | "endedAt" | "durationMs" | "outcome" | "detail">): TimingEvent {
    const info = this.db
      .prepare(
        `INSERT INTO cell_timing_events (cell_id, cell_name, workspace_id, workflow, attempt, step, started_at, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running')`,
      )
      .run(e.cellId, e.cellName, e.workspaceId, e.workflow, e.attempt, e.step, e.startedAt);
    return this.get(Number(info.lastInsertRowid))!;
  }

  finish(id: number, outcome: Exclude<StepOutcome, "running">, detail: string | null): TimingEvent {
    const endedAt = new Date();
    const row = this.get(id)!;
    this.db
      .prepare(
        "UPDATE cell_timing_events SET ended_at = ?, duration_ms = ?, outcome = ?, detail = ? WHERE id = ?",
      )
      .run(endedAt.toISOString(), endedAt.getTime() - Date.parse(row.startedAt), outcome, detail, id);
    return this.get(id)!;
  }

  get(id: number): TimingEvent | undefined {
    const row = this.db.prepare("SELECT * FROM cell_timing_events WHERE id = ?").get(id) as Row | undefined;
    return row && toEvent(row);
  }

  forCell(cellId: string): TimingEvent[] {
    return (
      this.db.prepare("SELECT * FROM cell_timing_events WHERE cell_id = ? ORDER BY id").all(cellId) as Row[]
    ).map(toEvent);
  }

  /** Every cell's steps, deleted cells included, slowest first. */
  query(filter: { cellId?: string; step?: string; limit: number }): TimingEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.cellId) {
      where.push("cell_id = ?");
      args.push(filter.cellId);
    }
    if (filter.step) {
      where.push("step LIKE ?");
      args.push(`${filter.step}%`);
    }
    const sql = `SELECT * FROM cell_timing_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY duration_ms IS NULL, duration_ms DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit) as Row[]).map(toEvent);
  }

  lastAttempt(cellId: string, workflow: TimingEvent["workflow"]): number {
    const row = this.db
      .prepare("SELECT MAX(attempt) AS a FROM cell_timing_events WHERE cell_id = ? AND workflow = ?")
      .get(cellId, workflow) as { a: number | null };
    return row.a ?? 0;
  }

  /** Steps left 'running' by a process that died: closed as errors with the reason. */
  closeDangling(cellId: string, detail: string): void {
    for (const e of this.forCell(cellId).filter((x) => x.outcome === "running"))
      this.finish(e.id, "error", detail);
  }
}
