import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Router } from "express";
import { IdParams } from "../../../shared/api.ts";
import { HiveError } from "../../../shared/errors.ts";
import {
  ResourcesQuery,
  ServiceActionParams,
  ServiceLogQuery,
  type ServiceLogResponse,
  ServiceParams,
} from "../../../shared/services.ts";
import { proxyTarget, type ServiceProxy } from "../../services/proxy.ts";
import type { Services } from "../../services/services.ts";
import { type Auth, refuseUpgrade } from "../auth.ts";
import { parse, route } from "./errors.ts";

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

/**
 * `/cells/:id/proxy/:service/...` to the service. Mounted before the JSON body parser (the body goes
 * through untouched) and outside /api (the service's pages need their own paths), so it checks sign-in
 * itself: the guard in front of every route lets GETs outside /api through for the app's static files.
 */
export function proxyRoutes(proxy: ServiceProxy, auth: Auth): Router {
  const r = Router();
  r.all(
    /^\/cells\/[^/]+\/proxy\/[^/]+$/,
    route((req, res) => {
      auth.authenticate(req);
      // Relative links in the service's pages need the trailing slash.
      res.redirect(308, `${req.path}/${req.originalUrl.slice(req.path.length)}`);
      return res;
    }),
  );
  r.all(
    /^\/cells\/[^/]+\/proxy\/[^/]+\//,
    route((req, res) => {
      auth.authenticate(req);
      const target = proxyTarget(req.originalUrl);
      if (!target) throw new HiveError("NOT_FOUND", `No service proxy at ${req.path}.`);
      proxy.web(req, res, target);
      return res;
    }),
  );
  return r;
}

/**
 * WebSocket upgrades under `/cells/:id/proxy/:service/`, checked like the hub's socket (Host, Origin,
 * sign-in). Returns false for other paths, which are someone else's to handle.
 */
export function handleProxyUpgrade(
  proxy: ServiceProxy,
  auth: Auth,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  const target = proxyTarget(req.url ?? "");
  if (!target) return false;
  const decision = auth.authorizeUpgrade(req);
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
