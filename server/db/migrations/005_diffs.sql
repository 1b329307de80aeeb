-- Review of a cell's changes: comments on lines, files marked viewed, and the last review point.
CREATE TABLE review_comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  line INTEGER NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('old', 'new')),
  body TEXT NOT NULL,
  -- The line's text when commented, so the comment can follow its line as the file changes.
  anchor_text TEXT NOT NULL,
  resolved INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT,
  outdated INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX review_comments_cell ON review_comments(cell_id, path);

-- A file counts as viewed while its content is the blob it had when marked.
CREATE TABLE review_viewed (
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  blob TEXT NOT NULL,
  viewed_at TEXT NOT NULL,
  PRIMARY KEY (cell_id, path)
);

-- "Since the last review": the worktree tree when the user last marked the diff reviewed.
CREATE TABLE review_marks (
  cell_id TEXT PRIMARY KEY REFERENCES cells(id) ON DELETE CASCADE,
  tree TEXT NOT NULL,
  created_at TEXT NOT NULL
);
