import { createHash, randomBytes } from "node:crypto";
import type { Session } from "../../shared/auth.ts";
import type { Db } from "../db/connection.ts";
import { newId } from "../db/ids.ts";

/** A session unused this long is gone; using it keeps it alive. */
export const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000;
/** last_seen_at is rewritten at most this often, so reads do not become writes. */
const TOUCH_EVERY_MS = 60 * 1000;
/** Old sessions beyond this many are dropped, oldest first: the table cannot grow without bound. */
const MAX_SESSIONS = 200;
/** Revoked rows are kept this long so a running server can learn of revocations made by the CLI. */
const KEEP_REVOKED_MS = 24 * 60 * 60 * 1000;

type Row = {
  id: string;
  secret_hash: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string | null;
  address: string | null;
  revoked_at: string | null;
};

export type SessionRecord = Omit<Session, "current">;

const toRecord = (r: Row): SessionRecord => ({
  id: r.id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  userAgent: r.user_agent,
  address: r.address,
});

const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** Sessions in SQLite (table auth_sessions): they survive restarts and expire when idle. */
export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes a session and returns it with the secret the cookie carries (only its hash is stored). */
  create(meta: { userAgent: string | null; address: string | null }): {
    session: SessionRecord;
    secret: string;
  } {
    const secret = randomBytes(32).toString("base64url");
    const id = newId(12);
    const at = new Date(this.now()).toISOString();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO auth_sessions (id, secret_hash, created_at, last_seen_at, user_agent, address)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(id, hashSecret(secret), at, at, meta.userAgent?.slice(0, 300) ?? null, meta.address);
      this.db
        .prepare(
          `UPDATE auth_sessions SET revoked_at = ? WHERE revoked_at IS NULL AND id NOT IN
             (SELECT id FROM auth_sessions WHERE revoked_at IS NULL ORDER BY last_seen_at DESC LIMIT ?)`,
        )
        .run(at, MAX_SESSIONS);
    })();
    return { session: this.get(id)!, secret };
  }

  /**
   * The live session a cookie's secret belongs to, undefined when unknown, revoked or idle too long.
   * `touched`: its last use was just moved forward (at most once a minute), a cue to renew the cookie.
   */
  bySecret(secret: string): { session: SessionRecord; touched: boolean } | undefined {
    const row = this.db
      .prepare("SELECT * FROM auth_sessions WHERE secret_hash = ? AND revoked_at IS NULL")
      .get(hashSecret(secret)) as Row | undefined;
    if (!row) return undefined;
    const now = this.now();
    const lastSeen = Date.parse(row.last_seen_at);
    if (now - lastSeen > SESSION_IDLE_MS) return undefined;
    const touched = now - lastSeen > TOUCH_EVERY_MS;
    if (touched) {
      row.last_seen_at = new Date(now).toISOString();
      this.db.prepare("UPDATE auth_sessions SET last_seen_at = ? WHERE id = ?").run(row.last_seen_at, row.id);
    }
    return { session: toRecord(row), touched };
  }

  get(id: string): SessionRecord | undefined {
    const row = this.db.prepare("SELECT * FROM auth_sessions WHERE id = ? AND revoked_at IS NULL").get(id) as
      | Row
      | undefined;
    return row && !this.idle(row) ? toRecord(row) : undefined;
  }

  /** Live sessions, most recently used first. */
  list(): SessionRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM auth_sessions WHERE revoked_at IS NULL ORDER BY last_seen_at DESC")
      .all() as Row[];
    return rows.filter((r) => !this.idle(r)).map(toRecord);
  }

  /** Returns false when there was no such live session. */
  revoke(id: string): boolean {
    const at = new Date(this.now()).toISOString();
    return (
      this.db
        .prepare("UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .run(at, id).changes > 0
    );
  }

  /** Revokes every session (token rotation) and returns their ids. */
  revokeAll(): string[] {
    const at = new Date(this.now()).toISOString();
    const rows = this.db
      .prepare("UPDATE auth_sessions SET revoked_at = ? WHERE revoked_at IS NULL RETURNING id")
      .all(at) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Ids of sessions revoked at or after `since` (ISO time), to close their sockets. */
  revokedSince(since: string): string[] {
    const rows = this.db.prepare("SELECT id FROM auth_sessions WHERE revoked_at >= ?").all(since) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  }

  /** Deletes sessions idle past expiry and revocations old enough that no server still needs them. */
  prune(): number {
    const now = this.now();
    return this.db
      .prepare("DELETE FROM auth_sessions WHERE last_seen_at < ? OR revoked_at < ?")
      .run(new Date(now - SESSION_IDLE_MS).toISOString(), new Date(now - KEEP_REVOKED_MS).toISOString())
      .changes;
  }

  private idle(r: Row): boolean {
    return this.now() - Date.parse(r.last_seen_at) > SESSION_IDLE_MS;
  }
}
