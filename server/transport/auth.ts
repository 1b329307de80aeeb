import { createHash } from "node:crypto";
import { unwatchFile, watchFile } from "node:fs";
import { type IncomingMessage, STATUS_CODES } from "node:http";
import { hostname as machineHostname } from "node:os";
import type { Duplex } from "node:stream";
import { parse as parseCookies, serialize as serializeCookie } from "cookie";
import { AccessTokenSchema } from "../../shared/auth.ts";
import { ERROR_STATUS, type ErrorCode, HiveError } from "../../shared/errors.ts";
import { type Db, openDb } from "../db/connection.ts";
import type { EventBus } from "../events/bus.ts";
import { ensureHome, type HomeLayout } from "../home/home.ts";
import { HostPolicy, isLoopbackHost, isWildcardHost } from "./host-policy.ts";
import { FailureLimiter } from "./rate-limit.ts";
import { SESSION_IDLE_MS, type SessionRecord, SessionStore } from "./sessions.ts";
import { TokenVerifier, tokenFile, writeNewToken } from "./token.ts";

/**
 * Who a request or socket acts for. Sockets opened with the token itself (not a session) carry the
 * pseudo session id "token" and are closed when the token rotates; with --no-auth, "open".
 */
export type AuthContext =
  | { via: "cookie"; sessionId: string }
  | { via: "token"; sessionId: "token" }
  | { via: "open"; sessionId: "open" };

const TOKEN_CONTEXT: AuthContext = { via: "token", sessionId: "token" };
const OPEN_CONTEXT: AuthContext = { via: "open", sessionId: "open" };

export type UpgradeDecision =
  | { ok: true; session: AuthContext }
  | { ok: false; status: number; code: ErrorCode; reason: string };

export interface AuthOptions {
  layout: HomeLayout;
  db: Db;
  bus: EventBus;
  /** The address Hive listens on (--host). */
  host: string;
  /** --no-auth: allowed on a loopback host only. */
  noAuth?: boolean;
  /** --allow-origin values: extra origins (a reverse proxy's) allowed to drive Hive. */
  allowOrigins?: string[];
  /** --trust-proxy: believe X-Forwarded-For and X-Forwarded-Proto. */
  trustProxy?: boolean;
}

/** Throws, with one clear sentence, when --no-auth is asked for on an address others can reach. */
export function assertAuthModeAllowed(host: string, noAuth: boolean): void {
  if (noAuth && !isLoopbackHost(host)) {
    throw new HiveError(
      "FORBIDDEN",
      `Refusing to start with --no-auth on ${host || "every interface"}: anyone who can reach that address would get your shells; bind to 127.0.0.1 or drop --no-auth.`,
      { host },
    );
  }
}

/**
 * `hive token --rotate`, run by the CLI with or without a server up: a new token, every session
 * revoked. A running server notices the token file change and closes the revoked sessions' sockets.
 */
export function rotateToken(layout: HomeLayout): string {
  ensureHome(layout);
  const db = openDb(layout.dbFile);
  try {
    return rotateWith(layout, new SessionStore(db));
  } finally {
    db.close();
  }
}

function rotateWith(layout: HomeLayout, sessions: SessionStore): string {
  sessions.revokeAll();
  const token = writeNewToken(layout);
  // Again: a sign-in that raced the first pass with the old token must not outlive it.
  sessions.revokeAll();
  return token;
}

const NOT_SIGNED_IN =
  "Not signed in to Hive: open the link printed by `hive` when it started (…/auth?token=…), or send `Authorization: Bearer <token>`; `hive token` prints the token again.";
const SESSION_ENDED =
  "Your Hive session has expired or was revoked: open the link printed by `hive` (or run `hive token`) to sign in again.";
const BAD_TOKEN =
  "That access token is not valid (it may have been rotated): use the one `hive token` prints.";

/** Access control for HTTP requests and the /ws upgrade; see docs/SECURITY.md. */
export class Auth {
  readonly policy: HostPolicy;
  readonly sessions: SessionStore;
  readonly noAuth: boolean;
  /** Per home, so two Hives on one host (cookies ignore ports) do not sign each other out. */
  readonly cookieName: string;
  private readonly tokens: TokenVerifier;
  private readonly limiter = new FailureLimiter();
  private revocationsCheckedAt = new Date().toISOString();
  /** The token file as last announced: a change means a rotation whose sockets must close. */
  private announcedStamp: string;
  private readonly onTokenFileChange: () => void;

  constructor(private readonly opts: AuthOptions) {
    assertAuthModeAllowed(opts.host, opts.noAuth ?? false);
    this.noAuth = opts.noAuth ?? false;
    this.policy = new HostPolicy({
      bindHost: opts.host,
      allowOrigins: opts.allowOrigins ?? [],
      trustProxy: opts.trustProxy ?? false,
    });
    this.sessions = new SessionStore(opts.db);
    this.sessions.prune();
    this.tokens = new TokenVerifier(opts.layout);
    this.cookieName = `hive_session_${createHash("sha256").update(opts.layout.root).digest("hex").slice(0, 8)}`;
    this.announcedStamp = this.tokens.stamp();
    this.onTokenFileChange = () => {
      if (this.tokens.stamp() !== this.announcedStamp) this.announceRevocations();
    };
    // Polls the file's stat once a second; not persistent, so it never keeps the process alive.
    watchFile(tokenFile(opts.layout), { persistent: false, interval: 1000 }, this.onTokenFileChange);
  }

  /** The link the CLI prints at start. */
  startUrl(port: number): string {
    const name = isWildcardHost(this.opts.host) ? machineHostname() : this.opts.host;
    const host = name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
    return this.noAuth
      ? `http://${host}:${port}/`
      : `http://${host}:${port}/auth?token=${encodeURIComponent(this.tokens.token())}`;
  }

  /** The current access token (for `hive token` output and test clients). */
  token(): string {
    return this.tokens.token();
  }

  /** Throws FORBIDDEN for a Host name Hive does not serve (DNS rebinding). */
  checkHost(req: IncomingMessage): void {
    if (!this.policy.hostAllowed(req.headers.host)) {
      throw new HiveError(
        "FORBIDDEN",
        `Hive does not answer to the host name '${req.headers.host ?? ""}'; use 127.0.0.1, localhost or the --host name, or add the name with --allow-origin.`,
        { host: req.headers.host ?? null },
      );
    }
  }

  /** Throws FORBIDDEN when a browser page of another origin sent the request. */
  checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (!this.policy.originAllowed(origin, req.headers.host)) {
      throw new HiveError(
        "FORBIDDEN",
        `Requests from the page origin '${origin}' are refused; start hive with --allow-origin ${origin} to allow it.`,
        { origin: origin ?? null },
      );
    }
  }

  /**
   * Who the request acts for: a session cookie, else the token (`Authorization: Bearer`, or
   * `?token=` when `url` is given, as for the socket). Throws UNAUTHORIZED or RATE_LIMITED.
   */
  authenticate(req: IncomingMessage, url?: URL): AuthContext {
    return this.identify(req, url).context;
  }

  /**
   * As authenticate, for an HTTP request: a session in use also gets its cookie renewed (at most
   * once a minute), so the cookie's 30 days count from the last use, as the session's do.
   */
  authenticateRequest(req: IncomingMessage): { context: AuthContext; renewedCookie?: string } {
    const { context, renew } = this.identify(req);
    return renew === undefined ? { context } : { context, renewedCookie: this.cookieFor(req, renew) };
  }

  private identify(req: IncomingMessage, url?: URL): { context: AuthContext; renew?: string } {
    if (this.noAuth) return { context: OPEN_CONTEXT };
    const secret = this.cookieSecret(req);
    const found = secret === undefined ? undefined : this.sessions.bySecret(secret);
    if (found) {
      const context: AuthContext = { via: "cookie", sessionId: found.session.id };
      return found.touched ? { context, renew: secret } : { context };
    }
    const token = bearerToken(req) ?? url?.searchParams.get("token") ?? undefined;
    if (token === undefined)
      throw new HiveError("UNAUTHORIZED", secret === undefined ? NOT_SIGNED_IN : SESSION_ENDED);
    this.verifyToken(req, token);
    return { context: TOKEN_CONTEXT };
  }

  /** Trades the token for a new session; returns the Set-Cookie value with it. */
  signIn(req: IncomingMessage, token: string): { session: SessionRecord; cookie: string } {
    this.verifyToken(req, token);
    this.sessions.prune();
    const { session, secret } = this.sessions.create({
      userAgent: headerString(req.headers["user-agent"]),
      address: this.policy.clientAddress(req),
    });
    return { session, cookie: this.cookieFor(req, secret) };
  }

  private cookieFor(req: IncomingMessage, secret: string): string {
    return serializeCookie(this.cookieName, secret, {
      httpOnly: true,
      sameSite: "strict",
      secure: this.policy.isHttps(req),
      path: "/",
      maxAge: SESSION_IDLE_MS / 1000,
    });
  }

  /** A Set-Cookie value that removes the session cookie. */
  clearedCookie(req: IncomingMessage): string {
    return serializeCookie(this.cookieName, "", {
      httpOnly: true,
      sameSite: "strict",
      secure: this.policy.isHttps(req),
      path: "/",
      maxAge: 0,
    });
  }

  /** True when the request carries a session cookie (valid or not). */
  hasSessionCookie(req: IncomingMessage): boolean {
    return this.cookieSecret(req) !== undefined;
  }

  /**
   * The whole check for the /ws upgrade, for the socket hub: Host, Origin, then credentials.
   * Refusals come as values so the hub can answer the raw socket (see refuseUpgrade).
   */
  authorizeUpgrade(req: IncomingMessage): UpgradeDecision {
    try {
      this.checkHost(req);
      this.checkOrigin(req);
      return { ok: true, session: this.authenticate(req, new URL(req.url ?? "/", "http://hive.invalid")) };
    } catch (err) {
      if (!(err instanceof HiveError)) throw err;
      return { ok: false, status: ERROR_STATUS[err.code], code: err.code, reason: err.message };
    }
  }

  /** Ends one session and closes its sockets. False when there was no such live session. */
  revoke(sessionId: string): boolean {
    const revoked = this.sessions.revoke(sessionId);
    if (revoked) this.opts.bus.emit("auth.session.revoked", { sessionId });
    return revoked;
  }

  /** In-process rotation (same as `hive token --rotate`); returns the new token. */
  rotate(): string {
    const token = rotateWith(this.opts.layout, this.sessions);
    this.announceRevocations();
    return token;
  }

  close(): void {
    unwatchFile(tokenFile(this.opts.layout), this.onTokenFileChange);
  }

  private verifyToken(req: IncomingMessage, token: string): void {
    const address = this.policy.clientAddress(req);
    const waitMs = this.limiter.retryAfterMs(address);
    if (waitMs > 0) {
      const retryAfterSeconds = Math.ceil(waitMs / 1000);
      throw new HiveError(
        "RATE_LIMITED",
        `Too many failed sign-in attempts from ${address}: wait ${retryAfterSeconds} s and try again.`,
        { retryAfterSeconds },
      );
    }
    if (!AccessTokenSchema.safeParse(token).success || !this.tokens.matches(token)) {
      this.limiter.fail(address);
      throw new HiveError("UNAUTHORIZED", BAD_TOKEN);
    }
  }

  private cookieSecret(req: IncomingMessage): string | undefined {
    const header = req.headers.cookie;
    return header ? parseCookies(header)[this.cookieName] || undefined : undefined;
  }

  /** After a rotation (ours or the CLI's): closes the sockets of every session revoked since the last look. */
  private announceRevocations(): void {
    this.announcedStamp = this.tokens.stamp();
    const since = this.revocationsCheckedAt;
    this.revocationsCheckedAt = new Date().toISOString();
    for (const sessionId of this.sessions.revokedSince(since)) {
      this.opts.bus.emit("auth.session.revoked", { sessionId });
    }
    this.opts.bus.emit("auth.session.revoked", { sessionId: TOKEN_CONTEXT.sessionId });
  }
}

/** Answers a refused upgrade on the raw socket with an HTTP status and the usual JSON error body. */
export function refuseUpgrade(socket: Duplex, decision: Extract<UpgradeDecision, { ok: false }>): void {
  const body = JSON.stringify({ error: { code: decision.code, message: decision.reason } });
  socket.end(
    `HTTP/1.1 ${decision.status} ${STATUS_CODES[decision.status] ?? ""}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return m?.[1];
}

function headerString(v: string | string[] | undefined): string | null {
  return (Array.isArray(v) ? v[0] : v) ?? null;
}
