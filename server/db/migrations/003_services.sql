-- Services: what each runs (its launch spec), whether it should be running, and the process to adopt
-- after a Hive crash (pid + start time + boot id, so a reused pid is never mistaken for ours).
ALTER TABLE cell_services ADD COLUMN spec TEXT;
ALTER TABLE cell_services ADD COLUMN desired TEXT NOT NULL DEFAULT 'stopped';
ALTER TABLE cell_services ADD COLUMN pid INTEGER;
ALTER TABLE cell_services ADD COLUMN pid_start_ticks INTEGER;
ALTER TABLE cell_services ADD COLUMN pid_boot_id TEXT;
ALTER TABLE cell_services ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cell_services ADD COLUMN exit_code INTEGER;
ALTER TABLE cell_services ADD COLUMN detail TEXT;
ALTER TABLE cell_services ADD COLUMN updated_at TEXT;

-- One row per allocated port: the primary key makes a port unique across every cell.
CREATE TABLE service_ports (
  port INTEGER PRIMARY KEY,
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  service TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  allocated_at TEXT NOT NULL,
  UNIQUE (cell_id, service, name)
);

-- CPU and memory of each cell's processes, a day of history (older rows are pruned as new ones come).
CREATE TABLE cell_resource_samples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  cpu_percent REAL NOT NULL,
  rss_bytes INTEGER NOT NULL,
  processes INTEGER NOT NULL,
  by_source TEXT NOT NULL
);
CREATE INDEX resource_samples_cell ON cell_resource_samples(cell_id, at);
CREATE INDEX resource_samples_at ON cell_resource_samples(at);
