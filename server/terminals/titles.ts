import type { Db } from "../db/connection.ts";

/**
 * Terminal names a person chose (migration 013). The shells live in the PTY host; their names live here,
 * on Hive's side, and are dropped with the terminal (or with its cell).
 */
export class TerminalTitles {
  constructor(private readonly db: Db) {}

  get(termId: string): string | undefined {
    const row = this.db.prepare("SELECT title FROM terminal_titles WHERE term_id = ?").get(termId) as
      | { title: string }
      | undefined;
    return row?.title;
  }

  set(termId: string, cellId: string, title: string): void {
    this.db
      .prepare(
        `INSERT INTO terminal_titles (term_id, cell_id, title, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (term_id) DO UPDATE SET title = excluded.title, updated_at = excluded.updated_at`,
      )
      .run(termId, cellId, title, new Date().toISOString());
  }

  delete(termId: string): void {
    this.db.prepare("DELETE FROM terminal_titles WHERE term_id = ?").run(termId);
  }

  /** Forgets the names of terminals that no longer exist (closed while Hive was not running). */
  retain(termIds: string[]): void {
    const keep = new Set(termIds);
    const rows = this.db.prepare("SELECT term_id FROM terminal_titles").all() as { term_id: string }[];
    const drop = this.db.prepare("DELETE FROM terminal_titles WHERE term_id = ?");
    for (const r of rows) if (!keep.has(r.term_id)) drop.run(r.term_id);
  }
}
