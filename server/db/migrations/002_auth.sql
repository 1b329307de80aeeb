-- Browser sessions made by exchanging the access token. Only a hash of each session's secret is
-- stored, so a copy of the database does not let anyone in.
CREATE TABLE auth_sessions (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  user_agent TEXT,
  address TEXT,
  revoked_at TEXT
);
CREATE INDEX auth_sessions_revoked ON auth_sessions(revoked_at);
