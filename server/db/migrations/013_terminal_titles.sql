-- Names people gave terminal tabs, kept beside the shells (which live in the PTY host and outlive a restart
-- of the web server), so every browser shows the same name and a restart keeps it.
CREATE TABLE terminal_titles (
  term_id TEXT PRIMARY KEY,
  cell_id TEXT NOT NULL REFERENCES cells(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
