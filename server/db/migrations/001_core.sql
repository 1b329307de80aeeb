-- Workspaces, cells, their services and the timing history of every workflow step.
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE cells (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT,
  template_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  workspace_path TEXT NOT NULL,
  worktree_path TEXT,
  opencode_session_id TEXT,
  status TEXT NOT NULL,
  current_step TEXT,
  last_setup_error TEXT,
  branch_name TEXT,
  base_ref TEXT,
  base_commit TEXT,
  agent_choice TEXT,
  agent_status TEXT NOT NULL DEFAULT 'none',
  agent_status_detail TEXT,
  branch_status TEXT NOT NULL DEFAULT 'active',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX cells_workspace ON cells(workspace_id);

CREATE TABLE cell_services (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  UNIQUE (cell_id, name)
);

-- No foreign key to cells: timing history outlives the cell.
CREATE TABLE cell_timing_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL,
  cell_name TEXT NOT NULL,
  workspace_id TEXT NOT NULL,
  workflow TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  step TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  duration_ms REAL,
  outcome TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX timing_cell ON cell_timing_events(cell_id, id);
