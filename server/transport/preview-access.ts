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
  return `${session.sessionId}.${mac(auth, session.sessionId, cellId, service)}`;
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
  const given = Buffer.from(capability.slice(dot + 1));
  const expected = Buffer.from(mac(auth, sessionId, cellId, service));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  if (sessionId === "open") return auth.noAuth;
  // Granted to a bearer of the token itself: the key changes with the token.
  if (sessionId === "token") return true;
  return auth.sessions.get(sessionId) !== undefined;
}

function mac(auth: Auth, sessionId: string, cellId: string, service: string): string {
  return createHmac("sha256", auth.token())
    .update(`hive-preview\n${sessionId}\n${cellId}\n${service}`)
    .digest("base64url");
}
