import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Router } from "express";
import { IdParams } from "../../../shared/api.ts";
import { ERROR_STATUS, HiveError } from "../../../shared/errors.ts";
import {
  type PreviewLink,
  ResourcesQuery,
  ServiceActionParams,
  ServiceLogQuery,
  type ServiceLogResponse,
  ServiceParams,
} from "../../../shared/services.ts";
import {
  PROXY_ROUTE,
  type ProxyTarget,
  proxyPrefix,
  proxyTarget,
  type ServiceProxy,
} from "../../services/proxy.ts";
import type { Services } from "../../services/services.ts";
import { type Auth, type AuthContext, refuseUpgrade, type UpgradeDecision } from "../auth.ts";
import { previewCapability, previewCapabilityValid } from "../preview-access.ts";
import { authOf } from "./auth.ts";
import { parse, route } from "./errors.ts";
import { handlePreviewHostUpgrade, previewLink } from "./preview-host.ts";

export function serviceRoutes(services: Services): Router {
  const r = Router();
  r.get(
    "/api/cells/:id/services",
    route((req) => services.list(parse(IdParams, req.params, "params").id)),
  );
  r.post(
    "/api/cells/:id/services/:action",
    route(async (req) => {
      const { id } = parse(IdParams, { id: req.params.id }, "params");
      const { action } = parse(ServiceActionParams, { action: req.params.action }, "params");
      if (action === "start") return services.startAll(id);
      return action === "stop" ? services.stopAll(id) : services.restartAll(id);
    }),
  );
  r.post(
    "/api/cells/:id/services/:name/:action",
    route(async (req) => {
      const { id, name } = parse(ServiceParams, { id: req.params.id, name: req.params.name }, "params");
      const { action } = parse(ServiceActionParams, { action: req.params.action }, "params");
      if (action === "start") return services.start(id, name);
      return action === "stop" ? services.stop(id, name) : services.restart(id, name);
    }),
  );
  r.get(
    "/api/cells/:id/services/:name/log",
    route((req) => {
      const { id, name } = parse(ServiceParams, req.params, "params");
      const { bytes } = parse(ServiceLogQuery, req.query, "query");
      const log = services.log(id, name);
      const body: ServiceLogResponse = { cellId: id, name, file: log.file, text: log.tail(bytes) };
      return body;
    }),
  );
  r.get(
    "/api/cells/:id/resources",
    route((req) =>
      services.resourcesOf(
        parse(IdParams, req.params, "params").id,
        parse(ResourcesQuery, req.query, "query").minutes,
      ),
    ),
  );
  return r;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const STALE_PREVIEW =
  "This preview link is not valid (forged, or its session was signed out or revoked, or the token rotated): open the service from Hive again.";

/**
 * `/cells/:id/proxy/:service/...` to the service. Mounted before the JSON body parser (the body goes
 * through untouched) and outside /api (the service's pages need their own paths); the guard in front
 * of every route leaves these paths to it (Host aside), since previews send neither cookie nor Origin.
 *
 * A browser signed in with its cookie is sent on to the preview's own prefix, which carries a
 * capability for this one service: proxied pages run sandboxed in an opaque origin (so they cannot use
 * Hive as the user), and such a page's requests carry no cookie. Scripts with `Authorization: Bearer`
 * are served directly.
 */
export function proxyRoutes(proxy: ServiceProxy, auth: Auth): Router {
  const r = Router();
  // The link to a full-fidelity preview on the service's own origin (see preview-host.ts).
  r.post(
    "/api/cells/:id/services/:name/preview-link",
    route((req, res) => {
      const { id, name } = parse(ServiceParams, req.params, "params");
      proxy.address({ cellId: id, service: name });
      return previewLink(auth, authOf(res), req, id, name) satisfies PreviewLink;
    }),
  );
  r.all(
    PROXY_ROUTE,
    route((req, res) => {
      const target = proxyTarget(req.originalUrl);
      if (!target) throw new HiveError("NOT_FOUND", `No service proxy at ${req.path}.`);
      if (target.capability !== undefined) {
        if (!previewCapabilityValid(auth, target.capability, target.cellId, target.service)) {
          // A reload by the person (the cookie comes along then) gets a fresh capability.
          if (req.method === "GET" || req.method === "HEAD") {
            const session = signedInBrowser(auth, req);
            if (session) return res.redirect(303, previewUrl(auth, session, target));
          }
          throw new HiveError("UNAUTHORIZED", STALE_PREVIEW);
        }
        if (target.bare) return res.redirect(308, previewUrl(auth, undefined, target));
        if (!proxy.preflight(req, res)) proxy.web(req, res, target);
        return res;
      }
      if (!SAFE_METHODS.has(req.method)) auth.checkOrigin(req);
      const session = auth.authenticate(req);
      if (session.via !== "token") return res.redirect(307, previewUrl(auth, session, target));
      // Relative links in the service's pages need the trailing slash.
      if (target.bare) return res.redirect(308, `${req.path}/${req.originalUrl.slice(req.path.length)}`);
      proxy.web(req, res, target);
      return res;
    }),
  );
  return r;
}

/** The session of a request that carries Hive's cookie (not a bearer token), or undefined. */
function signedInBrowser(auth: Auth, req: IncomingMessage): AuthContext | undefined {
  try {
    const session = auth.authenticate(req);
    return session.via === "token" ? undefined : session;
  } catch {
    return undefined;
  }
}

/** The target's URL under a preview prefix: a fresh capability for `session`, else the target's own. */
function previewUrl(auth: Auth, session: AuthContext | undefined, target: ProxyTarget): string {
  const capability = session
    ? previewCapability(auth, session, target.cellId, target.service)
    : target.capability;
  return proxyPrefix({ ...target, capability }) + target.rest;
}

/**
 * WebSocket upgrades under `/cells/:id/proxy/:service/`: under a preview prefix the capability is
 * the credential (a preview's socket says `Origin: null`); otherwise checked like the hub's socket
 * (Host, Origin, sign-in). Returns false for other paths, which are someone else's to handle.
 */
export function handleProxyUpgrade(
  proxy: ServiceProxy,
  auth: Auth,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  if (handlePreviewHostUpgrade(proxy, auth, req, socket, head)) return true;
  const target = proxyTarget(req.url ?? "");
  if (!target) return false;
  const decision =
    target.capability === undefined
      ? auth.authorizeUpgrade(req)
      : authorizePreviewUpgrade(auth, req, target.capability, target);
  if (!decision.ok) {
    refuseUpgrade(socket, decision);
    return true;
  }
  try {
    proxy.ws(req, socket, head, target);
  } catch (err) {
    refuseUpgrade(socket, { ok: false, status: 502, code: "UNAVAILABLE", reason: (err as Error).message });
  }
  return true;
}

/** A preview's socket: Host, then the capability (it says `Origin: null` and carries no cookie). */
function authorizePreviewUpgrade(
  auth: Auth,
  req: IncomingMessage,
  capability: string,
  target: ProxyTarget,
): { ok: true } | Extract<UpgradeDecision, { ok: false }> {
  try {
    auth.checkHost(req);
    if (!previewCapabilityValid(auth, capability, target.cellId, target.service))
      throw new HiveError("UNAUTHORIZED", STALE_PREVIEW);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof HiveError)) throw err;
    return { ok: false, status: ERROR_STATUS[err.code], code: err.code, reason: err.message };
  }
}
