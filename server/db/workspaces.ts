import type { Workspace } from "../../shared/records.ts";
import type { Db } from "./connection.ts";

type Row = { id: string; path: string; slug: string; name: string; created_at: string };
const toWorkspace = (r: Row): Workspace => ({
  id: r.id,
  path: r.path,
  slug: r.slug,
  name: r.name,
  createdAt: r.created_at,
});

export class WorkspaceRepo {
  constructor(private readonly db: Db) {}

  list(): Workspace[] {
    return (this.db.prepare("SELECT * FROM workspaces ORDER BY created_at").all() as Row[]).map(toWorkspace);
  }

  get(id: string): Workspace | undefined {
    const row = this.db.prepare("SELECT * FROM workspaces WHERE id = ?").get(id) as Row | undefined;
    return row && toWorkspace(row);
  }

  byPath(path: string): Workspace | undefined {
    const row = this.db.prepare("SELECT * FROM workspaces WHERE path = ?").get(path) as Row | undefined;
    return row && toWorkspace(row);
  }

  slugTaken(slug: string): boolean {
    return this.db.prepare("SELECT 1 FROM workspaces WHERE slug = ?").get(slug) !== undefined;
  }

  /**
   * Forgets a workspace that has no cells (and with it its list of kept branches), in one transaction so
   * that no cell can be created in between. Answers the names of the cells that keep it otherwise.
   */
  removeIfEmpty(id: string): { removed: true } | { cells: string[] } {
    return this.db.transaction(() => {
      const cells = this.db
        .prepare("SELECT name FROM cells WHERE workspace_id = ? ORDER BY created_at")
        .pluck()
        .all(id) as string[];
      if (cells.length > 0) return { cells };
      this.db.prepare("DELETE FROM workspaces WHERE id = ?").run(id);
      return { removed: true as const };
    })();
  }

  insert(w: Workspace): void {
    this.db
      .prepare("INSERT INTO workspaces (id, path, slug, name, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(w.id, w.path, w.slug, w.name, w.createdAt);
  }
}
