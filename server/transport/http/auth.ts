import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from "express";
import { IdParams } from "../../../shared/api.ts";
import { type AuthStatus, LoginBody, type SessionListResponse } from "../../../shared/auth.ts";
import { ERROR_STATUS, HiveError } from "../../../shared/errors.ts";
import { isProxyPath } from "../../services/proxy.ts";
import type { Auth, AuthContext } from "../auth.ts";
import { parse, route } from "./errors.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Set on every response: no framing by other origins (dev servers of cells share our host), no sniffing, no token in Referer. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Resource-Policy": "same-origin",
  });
  next();
};

/**
 * Needs no sign-in: the sign-in endpoints, and GETs outside /api, which only serve the client's
 * static files. Those hold no data, and the app must load to show its "sign in" page; all data
 * lives under /api (and /ws), which is why any new data route must go under /api too.
 */
function isPublic(req: Request): boolean {
  if (req.method === "GET" && req.path === "/auth") return true;
  if (req.method === "POST" && req.path === "/api/auth/login") return true;
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  let path: string;
  try {
    path = decodeURIComponent(req.path).replace(/\/+/g, "/").toLowerCase();
  } catch {
    return false;
  }
  return !(path === "/api" || path.startsWith("/api/") || path === "/ws");
}

/** Host on every request, Origin on every state-changing one, then sign-in unless public. */
function guard(auth: Auth): RequestHandler {
  return (req, res, next) => {
    try {
      auth.checkHost(req);
      // The service proxy checks Origin and sign-in itself: its sandboxed previews send neither.
      if (isProxyPath(req.path)) return next();
      if (!SAFE_METHODS.has(req.method)) auth.checkOrigin(req);
      if (!isPublic(req)) {
        const { context, renewedCookie } = auth.authenticateRequest(req);
        res.locals.auth = context;
        if (renewedCookie) res.append("Set-Cookie", renewedCookie);
      }
      next();
    } catch (err) {
      decorateRefusal(auth, err, req, res);
      next(err);
    }
  };
}

/** A 429 says when to retry; a 401 drops a stale cookie so the browser stops sending it. */
function decorateRefusal(auth: Auth, err: unknown, req: Request, res: Response): void {
  if (!(err instanceof HiveError)) return;
  const details = err.details as { retryAfterSeconds?: number } | undefined;
  if (err.code === "RATE_LIMITED" && details?.retryAfterSeconds)
    res.set("Retry-After", String(details.retryAfterSeconds));
  if (err.code === "UNAUTHORIZED" && auth.hasSessionCookie(req))
    res.append("Set-Cookie", auth.clearedCookie(req));
}

/** Who the request acts for; set by the guard on every non-public route. */
export function authOf(res: Response): AuthContext {
  return res.locals.auth as AuthContext;
}

/** Only same-site paths, never "//elsewhere" (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\")
    ? next
    : "/";
}

/**
 * Sign-in and sessions, plus the guard in front of every route mounted after this router:
 * mount it first (`app.use(authRoutes(auth))`).
 */
export function authRoutes(auth: Auth): Router {
  const r = Router();
  r.use(securityHeaders, guard(auth));

  // The link printed at start: trade the token for a session cookie, then drop the token from the address bar.
  r.get("/auth", (req: Request, res: Response, next: NextFunction) => {
    res.set("Cache-Control", "no-store");
    if (auth.noAuth) return res.redirect(303, safeNext(req.query.next));
    try {
      const token = typeof req.query.token === "string" ? req.query.token : "";
      if (!token) {
        throw new HiveError(
          "BAD_REQUEST",
          "This sign-in link has no token: open the whole link printed by `hive` (…/auth?token=…).",
        );
      }
      const { cookie } = auth.signIn(req, token);
      res.append("Set-Cookie", cookie).redirect(303, safeNext(req.query.next));
    } catch (err) {
      if (!(err instanceof HiveError)) return next(err);
      // A person reads this in the browser tab, so plain words rather than JSON.
      decorateRefusal(auth, err, req, res);
      res.status(ERROR_STATUS[err.code]).type("text/plain").send(`Hive: ${err.message}\n`);
    }
  });

  r.post(
    "/api/auth/login",
    express.json({ limit: "4kb" }),
    route((req, res) => {
      const { token } = parse(LoginBody, req.body, "body");
      const { session, cookie } = auth.signIn(req, token);
      res.append("Set-Cookie", cookie);
      return { via: "cookie", sessionId: session.id } satisfies AuthStatus;
    }),
  );

  r.get(
    "/api/auth/me",
    route((_req, res) => authOf(res) satisfies AuthStatus),
  );

  r.post(
    "/api/auth/logout",
    route((req, res) => {
      const me = authOf(res);
      if (me.via === "cookie") auth.revoke(me.sessionId);
      res.append("Set-Cookie", auth.clearedCookie(req)).status(204).end();
    }),
  );

  r.get(
    "/api/auth/sessions",
    route((_req, res) => {
      const me = authOf(res);
      const sessions = auth.sessions.list().map((s) => ({ ...s, current: s.id === me.sessionId }));
      return { sessions } satisfies SessionListResponse;
    }),
  );

  r.delete(
    "/api/auth/sessions/:id",
    route((req, res) => {
      const { id } = parse(IdParams, req.params, "params");
      if (!auth.revoke(id)) throw new HiveError("NOT_FOUND", `No live session '${id}' to revoke.`, { id });
      if (id === authOf(res).sessionId) res.append("Set-Cookie", auth.clearedCookie(req));
      res.status(204).end();
    }),
  );

  return r;
}
