-- Agents: per-cell agent settings and the assembled first prompt, a durable log of what each agent did
-- (kept after the cell is deleted, so it can be read even if OpenCode's own store is lost), and the
-- calls an agent made to Hive's tools.
CREATE TABLE cell_agents (
  cell_id TEXT PRIMARY KEY,
  mode TEXT NOT NULL DEFAULT 'build',
  prompt TEXT,
  prompt_fragments TEXT NOT NULL DEFAULT '[]',
  prompt_sent_at TEXT,
  created_at TEXT NOT NULL
);

-- No foreign key to cells: the log outlives the cell.
CREATE TABLE agent_log_chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL,
  session_id TEXT,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX agent_log_cell ON agent_log_chunks(cell_id, id);

CREATE TABLE agent_activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL,
  tool TEXT NOT NULL,
  input TEXT NOT NULL,
  ok INTEGER NOT NULL,
  summary TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX agent_activity_cell ON agent_activity(cell_id, id);
