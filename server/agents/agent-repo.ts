import type { AgentActivity, AgentMode, AssembledPrompt } from "../../shared/agents.ts";
import type { Db } from "../db/connection.ts";

/** Rows kept per cell in the durable log; older ones are dropped as new ones come. */
export const LOG_CHUNKS_PER_CELL = 5_000;
const ACTIVITY_PER_CELL = 1_000;

export interface LogChunk {
  id: number;
  cellId: string;
  sessionId: string | null;
  kind: string;
  payload: unknown;
  createdAt: string;
}

/** The `cell_agents` table: a cell's agent mode and its assembled first prompt. */
export class CellAgentRepo {
  constructor(private readonly db: Db) {}

  private ensure(cellId: string): void {
    this.db
      .prepare("INSERT OR IGNORE INTO cell_agents (cell_id, created_at) VALUES (?, ?)")
      .run(cellId, new Date().toISOString());
  }

  mode(cellId: string): AgentMode | undefined {
    const row = this.db.prepare("SELECT mode FROM cell_agents WHERE cell_id = ?").get(cellId) as
      | { mode: AgentMode }
      | undefined;
    return row?.mode;
  }

  setMode(cellId: string, mode: AgentMode): void {
    this.ensure(cellId);
    this.db.prepare("UPDATE cell_agents SET mode = ? WHERE cell_id = ?").run(mode, cellId);
  }

  prompt(cellId: string): (AssembledPrompt & { sentAt: string | null }) | undefined {
    const row = this.db
      .prepare(
        "SELECT prompt, prompt_fragments, prompt_sent_at, created_at FROM cell_agents WHERE cell_id = ?",
      )
      .get(cellId) as
      | { prompt: string | null; prompt_fragments: string; prompt_sent_at: string | null; created_at: string }
      | undefined;
    return (
      row && {
        cellId,
        prompt: row.prompt,
        fragments: JSON.parse(row.prompt_fragments) as string[],
        createdAt: row.created_at,
        sentAt: row.prompt_sent_at,
      }
    );
  }

  setPrompt(cellId: string, prompt: string | null, fragments: string[]): void {
    this.ensure(cellId);
    this.db
      .prepare("UPDATE cell_agents SET prompt = ?, prompt_fragments = ? WHERE cell_id = ?")
      .run(prompt, JSON.stringify(fragments), cellId);
  }

  markPromptSent(cellId: string): void {
    this.db
      .prepare("UPDATE cell_agents SET prompt_sent_at = ? WHERE cell_id = ?")
      .run(new Date().toISOString(), cellId);
  }

  delete(cellId: string): void {
    this.db.prepare("DELETE FROM cell_agents WHERE cell_id = ?").run(cellId);
  }
}

/** The `agent_log_chunks` table: what each agent did, kept after its cell is gone, bounded per cell. */
export class AgentLogRepo {
  private appendsSinceTrim = 0;

  constructor(private readonly db: Db) {}

  append(cellId: string, sessionId: string | null, kind: string, payload: unknown): void {
    this.db
      .prepare(
        "INSERT INTO agent_log_chunks (cell_id, session_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
      )
      .run(cellId, sessionId, kind, JSON.stringify(payload), new Date().toISOString());
    // Trimming on every append would cost a query each time; every 100th keeps the bound loose but real.
    if (++this.appendsSinceTrim >= 100) {
      this.appendsSinceTrim = 0;
      this.trim(cellId);
    }
  }

  trim(cellId: string): void {
    this.db
      .prepare(
        `DELETE FROM agent_log_chunks WHERE cell_id = ? AND id <= (
           SELECT id FROM agent_log_chunks WHERE cell_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      )
      .run(cellId, cellId, LOG_CHUNKS_PER_CELL);
  }

  forCell(cellId: string, afterId = 0, limit = 1_000): LogChunk[] {
    const rows = this.db
      .prepare("SELECT * FROM agent_log_chunks WHERE cell_id = ? AND id > ? ORDER BY id LIMIT ?")
      .all(cellId, afterId, limit) as {
      id: number;
      cell_id: string;
      session_id: string | null;
      kind: string;
      payload: string;
      created_at: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      cellId: r.cell_id,
      sessionId: r.session_id,
      kind: r.kind,
      payload: JSON.parse(r.payload),
      createdAt: r.created_at,
    }));
  }
}

/** The `agent_activity` table: every call an agent made to a Hive tool. */
export class AgentActivityRepo {
  constructor(private readonly db: Db) {}

  record(cellId: string, tool: string, input: unknown, ok: boolean, summary: string): AgentActivity {
    const at = new Date().toISOString();
    const info = this.db
      .prepare(
        "INSERT INTO agent_activity (cell_id, tool, input, ok, summary, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(cellId, tool, JSON.stringify(input ?? null), ok ? 1 : 0, summary, at);
    this.db
      .prepare(
        `DELETE FROM agent_activity WHERE cell_id = ? AND id <= (
           SELECT id FROM agent_activity WHERE cell_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      )
      .run(cellId, cellId, ACTIVITY_PER_CELL);
    return { id: Number(info.lastInsertRowid), cellId, tool, input, ok, summary, at };
  }

  /** The cell's calls, oldest first; the latest `limit` of them when given. */
  forCell(cellId: string, limit = ACTIVITY_PER_CELL): AgentActivity[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM (SELECT * FROM agent_activity WHERE cell_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
      )
      .all(cellId, limit) as {
      id: number;
      cell_id: string;
      tool: string;
      input: string;
      ok: number;
      summary: string;
      created_at: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      cellId: r.cell_id,
      tool: r.tool,
      input: JSON.parse(r.input),
      ok: r.ok === 1,
      summary: r.summary,
      at: r.created_at,
    }));
  }
}
