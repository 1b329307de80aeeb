import type { ReviewComment } from "../../shared/diffs.ts";
import type { Db } from "../db/connection.ts";

type CommentRow = {
  id: number;
  cell_id: string;
  path: string;
  line: number;
  side: ReviewComment["side"];
  body: string;
  anchor_text: string;
  resolved: number;
  sent_at: string | null;
  outdated: number;
  created_at: string;
  updated_at: string;
};

const toComment = (r: CommentRow): ReviewComment => ({
  id: r.id,
  cellId: r.cell_id,
  path: r.path,
  line: r.line,
  side: r.side,
  body: r.body,
  anchorText: r.anchor_text,
  resolved: r.resolved === 1,
  sentAt: r.sent_at,
  outdated: r.outdated === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type NewComment = Pick<ReviewComment, "cellId" | "path" | "line" | "side" | "body" | "anchorText">;
export type CommentPatch = Partial<Pick<ReviewComment, "body" | "resolved" | "line" | "outdated" | "sentAt">>;

const COMMENT_COLUMN: Record<keyof CommentPatch, string> = {
  body: "body",
  resolved: "resolved",
  line: "line",
  outdated: "outdated",
  sentAt: "sent_at",
};

/** Tables of migration 005: review comments, viewed files and review points, all kept per cell. */
export class ReviewStore {
  constructor(private readonly db: Db) {}

  comments(cellId: string): ReviewComment[] {
    const rows = this.db
      .prepare("SELECT * FROM review_comments WHERE cell_id = ? ORDER BY path, line, id")
      .all(cellId) as CommentRow[];
    return rows.map(toComment);
  }

  comment(cellId: string, id: number): ReviewComment | undefined {
    const row = this.db
      .prepare("SELECT * FROM review_comments WHERE cell_id = ? AND id = ?")
      .get(cellId, id) as CommentRow | undefined;
    return row && toComment(row);
  }

  addComment(c: NewComment): ReviewComment {
    const now = new Date().toISOString();
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO review_comments (cell_id, path, line, side, body, anchor_text, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.cellId, c.path, c.line, c.side, c.body, c.anchorText, now, now);
    return this.comment(c.cellId, Number(lastInsertRowid))!;
  }

  updateComment(cellId: string, id: number, patch: CommentPatch): ReviewComment | undefined {
    const values: Record<string, unknown> = { cellId, id, updatedAt: new Date().toISOString() };
    const sets: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      sets.push(`${COMMENT_COLUMN[key as keyof CommentPatch]} = @${key}`);
      values[key] = typeof value === "boolean" ? Number(value) : value;
    }
    if (sets.length > 0) {
      this.db
        .prepare(
          `UPDATE review_comments SET ${sets.join(", ")}, updated_at = @updatedAt WHERE cell_id = @cellId AND id = @id`,
        )
        .run(values);
    }
    return this.comment(cellId, id);
  }

  deleteComment(cellId: string, id: number): boolean {
    return (
      this.db.prepare("DELETE FROM review_comments WHERE cell_id = ? AND id = ?").run(cellId, id).changes > 0
    );
  }

  /** Viewed marks as path → blob the file had when marked. */
  viewed(cellId: string): Map<string, string> {
    const rows = this.db.prepare("SELECT path, blob FROM review_viewed WHERE cell_id = ?").all(cellId) as {
      path: string;
      blob: string;
    }[];
    return new Map(rows.map((r) => [r.path, r.blob]));
  }

  setViewed(cellId: string, path: string, blob: string | null): void {
    if (blob === null) {
      this.db.prepare("DELETE FROM review_viewed WHERE cell_id = ? AND path = ?").run(cellId, path);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO review_viewed (cell_id, path, blob, viewed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (cell_id, path) DO UPDATE SET blob = excluded.blob, viewed_at = excluded.viewed_at`,
      )
      .run(cellId, path, blob, new Date().toISOString());
  }

  reviewMark(cellId: string): { tree: string; createdAt: string } | undefined {
    const row = this.db.prepare("SELECT tree, created_at FROM review_marks WHERE cell_id = ?").get(cellId) as
      | { tree: string; created_at: string }
      | undefined;
    return row && { tree: row.tree, createdAt: row.created_at };
  }

  setReviewMark(cellId: string, tree: string): void {
    this.db
      .prepare(
        `INSERT INTO review_marks (cell_id, tree, created_at) VALUES (?, ?, ?)
         ON CONFLICT (cell_id) DO UPDATE SET tree = excluded.tree, created_at = excluded.created_at`,
      )
      .run(cellId, tree, new Date().toISOString());
  }
}
