import { createHmac, timingSafeEqual } from "node:crypto";
import type { Auth, AuthContext } from "./auth.ts";

/**
 * Capabilities for service previews. A preview runs sandboxed in an opaque origin (see
 * services/proxy.ts), so the browser sends none of Hive's cookies with its requests: a capability in
 * its path stands in for them. One is bound to a session, a cell and a service, and grants that
 * service's proxy and nothing else (never /api or /ws, which look only at the session cookie).
 * Stateless: an HMAC keyed by the access token, so a rotation voids them all, and a check that the
 * session is still live, so signing out or revoking the session voids its previews.
 */
export function previewCapability(auth: Auth, session: AuthContext, cellId: string, service: string): string {
  return capabilityOf(auth, session.sessionId, cellId, service);
}

function capabilityOf(auth: Auth, sessionId: string, cellId: string, service: string): string {
  return `${sessionId}.${mac(auth, "capability", sessionId, cellId, service)}`;
}

export function previewCapabilityValid(
  auth: Auth,
  capability: string,
  cellId: string,
  service: string,
): boolean {
  const dot = capability.indexOf(".");
  if (dot <= 0) return false;
  const sessionId = capability.slice(0, dot);
  if (!macMatches(capability.slice(dot + 1), mac(auth, "capability", sessionId, cellId, service)))
    return false;
  return sessionLive(auth, sessionId);
}

/** How long a sign-in link to a preview's own origin may wait to be opened. */
export const PREVIEW_GRANT_MS = 60_000;

/**
 * A short-lived grant, for the link to a preview on its own origin (`<cell>--<service>.localhost`):
 * that origin cannot see Hive's cookie, so the link carries this, and the preview host trades it for
 * a host-only cookie holding a capability.
 */
export function previewGrant(
  auth: Auth,
  session: AuthContext,
  cellId: string,
  service: string,
  now = Date.now(),
) {
  const expires = now + PREVIEW_GRANT_MS;
  const grant = `${session.sessionId}.${expires}.${mac(auth, `grant ${expires}`, session.sessionId, cellId, service)}`;
  return { grant, expiresAt: new Date(expires).toISOString() };
}

/** Grants already traded, kept until they expire: a link signs one browser in, once. */
const redeemed = new Map<string, number>();

/** The capability a valid, unexpired, unused grant trades for; undefined otherwise. */
export function redeemPreviewGrant(
  auth: Auth,
  grant: string,
  cellId: string,
  service: string,
  now = Date.now(),
): string | undefined {
  const [sessionId, expires, given, ...extra] = grant.split(".");
  if (!sessionId || !expires || !given || extra.length || !/^\d{1,15}$/.test(expires)) return undefined;
  if (Number(expires) < now) return undefined;
  if (!macMatches(given, mac(auth, `grant ${expires}`, sessionId, cellId, service))) return undefined;
  if (!sessionLive(auth, sessionId)) return undefined;
  for (const [used, until] of redeemed) if (until < now) redeemed.delete(used);
  if (redeemed.has(grant)) return undefined;
  redeemed.set(grant, Number(expires));
  return capabilityOf(auth, sessionId, cellId, service);
}

/** The host-only cookie a preview's own origin keeps its capability in; never read on Hive's origin. */
export function previewCookieName(auth: Auth): string {
  return auth.cookieName.replace(/^hive_session_/, "hive_preview_");
}

function macMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sessionLive(auth: Auth, sessionId: string): boolean {
  if (sessionId === "open") return auth.noAuth;
  // Granted to a bearer of the token itself: the key changes with the token.
  if (sessionId === "token") return true;
  return auth.sessions.get(sessionId) !== undefined;
}

function mac(auth: Auth, purpose: string, sessionId: string, cellId: string, service: string): string {
  return createHmac("sha256", auth.token())
    .update(`hive-preview ${purpose}\n${sessionId}\n${cellId}\n${service}`)
    .digest("base64url");
}
