import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { parse as parseCookies, serialize as serializeCookie } from "cookie";
import type { RequestHandler } from "express";
import { ERROR_STATUS, HiveError } from "../../../shared/errors.ts";
import type { ServiceProxy } from "../../services/proxy.ts";
import { type Auth, type AuthContext, refuseUpgrade } from "../auth.ts";
import { isLoopbackHost } from "../host-policy.ts";
import {
  previewCapabilityValid,
  previewCookieName,
  previewGrant,
  redeemPreviewGrant,
} from "../preview-access.ts";

/**
 * Full-fidelity previews: a service on an origin of its own, `http://<cellId>--<service>.localhost:<port>`,
 * routed by Host. Browsers resolve every `*.localhost` name to loopback (no DNS, so no rebinding),
 * and that origin is cross-site to Hive's, so the page has real storage, cookies and workers and
 * still cannot use Hive's cookie. On such a Host everything goes to the service: Hive's API, socket
 * and app are not reachable there at all.
 */
const PREVIEW_HOST = /^([a-z0-9]{1,64})--([a-z][a-z0-9-]*)\.localhost\.?(?::(\d{1,5}))?$/i;
const SIGN_IN_PATH = "/__hive/preview-sign-in";

export interface PreviewHost {
  cellId: string;
  service: string;
}

export function previewHostOf(hostHeader: string | undefined): PreviewHost | undefined {
  const m = PREVIEW_HOST.exec(hostHeader ?? "");
  return m ? { cellId: m[1]!.toLowerCase(), service: m[2]!.toLowerCase() } : undefined;
}

/**
 * A sign-in link to the service's own origin, for a browser that reached Hive by a loopback address
 * (on this machine or through an SSH tunnel): `*.localhost` names only lead back to Hive from there.
 */
export function previewLink(
  auth: Auth,
  session: AuthContext,
  req: IncomingMessage,
  cellId: string,
  service: string,
): { url: string; expiresAt: string } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(req.headers.host ?? "");
  if (!m || !isLoopbackHost(m[1]!)) {
    throw new HiveError(
      "BAD_REQUEST",
      `A preview on its own origin needs Hive opened at localhost or 127.0.0.1 (here: '${req.headers.host ?? ""}'); use the proxy path /cells/${cellId}/proxy/${service}/ instead.`,
      { host: req.headers.host ?? null },
    );
  }
  if (!/^[a-z][a-z0-9-]*$/.test(service) || !/^[a-z0-9]+$/.test(cellId)) {
    throw new HiveError(
      "BAD_REQUEST",
      `Service '${service}' of cell ${cellId} cannot be named in a host name (lower-case letters, digits and '-' only); use the proxy path instead.`,
      { cellId, service },
    );
  }
  const { grant, expiresAt } = previewGrant(auth, session, cellId, service);
  const scheme = auth.policy.isHttps(req) ? "https" : "http";
  const port = m[2] ? `:${m[2]}` : "";
  const url = `${scheme}://${cellId}--${service}.localhost${port}${SIGN_IN_PATH}?grant=${encodeURIComponent(grant)}`;
  return { url, expiresAt };
}

/**
 * Mounted before everything else (the Host guard would refuse these names): requests on a preview
 * Host end here, and nothing of Hive's own is served on them.
 */
export function previewHostRoutes(proxy: ServiceProxy, auth: Auth): RequestHandler {
  return (req, res, next) => {
    const host = previewHostOf(req.headers.host);
    if (!host) return next();
    try {
      const url = new URL(req.originalUrl, "http://preview.invalid");
      if (url.pathname === SIGN_IN_PATH) {
        res.set({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });
        const capability = redeemPreviewGrant(
          auth,
          url.searchParams.get("grant") ?? "",
          host.cellId,
          host.service,
        );
        if (!capability) {
          throw new HiveError(
            "UNAUTHORIZED",
            "This preview sign-in link has expired or is not valid: open the service from Hive again.",
          );
        }
        // Lax: the link is opened from Hive, another site; host-only, so no other preview sees it.
        const cookie = serializeCookie(previewCookieName(auth), capability, {
          httpOnly: true,
          sameSite: "lax",
          secure: auth.policy.isHttps(req),
          path: "/",
        });
        return res.append("Set-Cookie", cookie).redirect(303, "/");
      }
      if (!signedIn(auth, req, host)) {
        throw new HiveError(
          "UNAUTHORIZED",
          "This preview is not signed in (or its Hive session ended): open it from the services strip in Hive.",
        );
      }
      proxy.web(req, res, { ...host, rest: req.originalUrl, ownOrigin: true, bare: false });
    } catch (err) {
      if (!(err instanceof HiveError)) return next(err);
      // A person reads this in the preview's tab: plain words.
      res.status(ERROR_STATUS[err.code]).type("text/plain").send(`Hive: ${err.message}\n`);
    }
  };
}

/** WebSocket upgrades on a preview Host go to the service, with the preview's cookie; true when handled. */
export function handlePreviewHostUpgrade(
  proxy: ServiceProxy,
  auth: Auth,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  const host = previewHostOf(req.headers.host);
  if (!host) return false;
  try {
    if (!signedIn(auth, req, host)) throw new HiveError("UNAUTHORIZED", "This preview is not signed in.");
    proxy.ws(req, socket, head, { ...host, rest: req.url ?? "/", ownOrigin: true, bare: false });
  } catch (err) {
    if (!(err instanceof HiveError)) throw err;
    refuseUpgrade(socket, { ok: false, status: ERROR_STATUS[err.code], code: err.code, reason: err.message });
  }
  return true;
}

function signedIn(auth: Auth, req: IncomingMessage, host: PreviewHost): boolean {
  const capability = parseCookies(req.headers.cookie ?? "")[previewCookieName(auth)];
  return capability !== undefined && previewCapabilityValid(auth, capability, host.cellId, host.service);
}
