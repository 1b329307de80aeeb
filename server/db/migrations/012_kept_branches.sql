-- Branches of deleted or abandoned cells that Hive kept because they hold work not merged into their
-- base: listed per workspace so the work can be found again. No foreign key to cells: the record
-- outlives the cell, as timing events do.
CREATE TABLE kept_branches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  branch TEXT NOT NULL,
  cell_id TEXT NOT NULL,
  cell_name TEXT NOT NULL,
  -- The commit the branch pointed at when it was kept, and how many commits its base lacked.
  head TEXT NOT NULL,
  ahead INTEGER NOT NULL,
  merge_target TEXT NOT NULL,
  kept_at TEXT NOT NULL,
  UNIQUE (workspace_id, branch)
);
