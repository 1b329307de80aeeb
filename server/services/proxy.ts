import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { HiveError } from "../../shared/errors.ts";
import { serviceUrl } from "./env.ts";
import type { Services } from "./services.ts";

/**
 * `/cells/<cellId>/proxy/<service>`, an optional preview capability segment `~<capability>` (see
 * transport/preview-access.ts), then the path inside the service.
 */
const PROXY_PATH =
  /^\/cells\/([A-Za-z0-9_-]{1,64})\/proxy\/([A-Za-z][A-Za-z0-9_-]*)(?:\/~([a-z0-9]{1,64}\.[A-Za-z0-9_-]{43}))?(\/.*)?$/;

/** Every path the proxy answers (and so checks itself); the same shape as its routes. */
export const PROXY_ROUTE = /^\/cells\/[^/]+\/proxy\/[^/]+(?:\/|$)/;

export function isProxyPath(path: string): boolean {
  return PROXY_ROUTE.test(path);
}

export interface ProxyTarget {
  cellId: string;
  service: string;
  /** The capability in the path, when the request came from a preview. */
  capability?: string;
  /** The path (and query) the service itself sees. */
  rest: string;
  /**
   * Served on an origin of its own (`<cellId>--<service>.localhost`) rather than under a prefix of
   * Hive's: nothing to sandbox or rewrite there.
   */
  ownOrigin?: boolean;
  /** No "/" after the prefix: relative links would resolve outside it, so the caller redirects. */
  bare: boolean;
}

/** Splits a request URL under the proxy prefix; undefined for any other URL. */
export function proxyTarget(url: string): ProxyTarget | undefined {
  const q = url.indexOf("?");
  const m = PROXY_PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return undefined;
  return {
    cellId: m[1]!,
    service: m[2]!,
    ...(m[3] === undefined ? {} : { capability: m[3] }),
    rest: (m[4] ?? "/") + (q < 0 ? "" : url.slice(q)),
    bare: m[4] === undefined,
  };
}

/** The public prefix of a target: what the browser sees before the service's own path. */
export function proxyPrefix(target: Pick<ProxyTarget, "cellId" | "service" | "capability">): string {
  const base = `/cells/${target.cellId}/proxy/${target.service}`;
  return target.capability === undefined ? base : `${base}/~${target.capability}`;
}

/** Seconds between the tries of the page shown while a service does not answer. */
const RETRY_SECONDS = 2;

/** A person opening the page (not a script's fetch) reads the error, in plain words. */
function wantsPage(req: IncomingMessage): boolean {
  return req.method === "GET" && (req.headers.accept ?? "").includes("text/html");
}

/**
 * What a person sees when the service they opened does not answer: usually a dev server still starting,
 * so the page tries again by itself; a service that serves no HTTP at all should have no port.
 */
function notAnsweringPage(service: string, message: string): string {
  const text = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${RETRY_SECONDS}">
<title>${text(service)} is not answering · Hive</title>
<style>body{font:15px/1.6 system-ui,sans-serif;margin:40px auto;max-width:640px;padding:0 16px;color:#222}
@media (prefers-color-scheme:dark){body{background:#1b1b1f;color:#ddd}}code{font-size:13px}</style></head>
<body><h1 style="font-size:20px">${text(service)} is not answering</h1>
<p>${text(message)}</p>
<p>This page tries again every ${RETRY_SECONDS} seconds, so it shows the service as soon as it answers.</p>
<p>A service that serves no web pages needs no port: give it <code>"port": false</code> in
<code>hive.config.json</code>, and its link goes away.</p></body></html>
`;
}

/**
 * Every proxied page runs sandboxed: without allow-same-origin its origin is opaque, so its requests
 * to Hive carry `Origin: null` and no cookie, and it cannot use Hive's API or socket as the user.
 */
export const PREVIEW_SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

/**
 * Forwards HTTP requests and WebSocket upgrades to a cell's service by its allocated port, so a
 * remote browser reaches the service through Hive alone. Who may use it is the transport's business;
 * this strips Hive's own credentials so the service never sees them, and makes what the service
 * answers unable to act as the user (sandboxed, unable to touch Hive's cookies or service workers).
 */
export class ServiceProxy {
  private readonly proxy = createProxyServer({ xfwd: true });
  /** The target of each request in flight, for rewriting what the service answers. */
  private readonly targets = new WeakMap<IncomingMessage, ProxyTarget>();

  constructor(
    private readonly services: Services,
    /** Hive's own cookies (session, preview): removed from what the service receives, never set by it. */
    private readonly hiveCookies: string[],
  ) {
    // Without a listener the library rethrows; each call passes its own callback, this is the backstop.
    this.proxy.on("error", () => undefined);
    this.proxy.on("proxyRes", (proxyRes, req) => {
      const target = this.targets.get(req);
      if (target) rewriteResponseHeaders(proxyRes.headers, req, target, this.hiveCookies);
    });
  }

  web(req: IncomingMessage, res: ServerResponse, target: ProxyTarget): void {
    const origin = this.address(target);
    const prefix = this.prepare(req, target);
    // Hive's own framing defaults would stop a preview from framing its own pages (its origin is opaque).
    res.removeHeader("x-frame-options");
    res.removeHeader("content-security-policy");
    const cookiePaths = target.ownOrigin ? {} : { cookiePathRewrite: { "*": `${prefix}/` } };
    this.proxy.web(req, res, { target: origin, ...cookiePaths }, (err) => {
      if (res.headersSent) return void res.destroy();
      const message = `Service '${target.service}' of cell ${target.cellId} did not answer at ${origin}: ${err.message}`;
      if (wantsPage(req)) {
        res.writeHead(502, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
        return void res.end(notAnsweringPage(target.service, message));
      }
      res.writeHead(502, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ error: { code: "UNAVAILABLE", message } }));
    });
  }

  /**
   * A preview's requests are all cross-origin (its origin is opaque), so the browser asks first for
   * anything beyond a simple request. Hive answers for the service; true when it did.
   */
  preflight(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== "OPTIONS" || req.headers.origin !== "null") return false;
    const method = req.headers["access-control-request-method"];
    if (!method) return false;
    const headers = req.headers["access-control-request-headers"];
    res.writeHead(204, {
      ...corsHeaders(),
      "access-control-allow-methods": method,
      ...(headers ? { "access-control-allow-headers": headers } : {}),
      "access-control-max-age": "600",
    });
    res.end();
    return true;
  }

  ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget): void {
    const origin = this.address(target);
    this.prepare(req, target);
    this.proxy.ws(req, socket, head, { target: origin }, () => socket.destroy());
  }

  close(): void {
    this.proxy.close();
  }

  /** The service's address; a clear error when it has no port or is not running. */
  address(target: Pick<ProxyTarget, "cellId" | "service">): string {
    const svc = this.services.get(target.cellId, target.service);
    if (svc.port === null) {
      throw new HiveError(
        "NOT_FOUND",
        `Service '${svc.name}' of cell ${svc.cellId} has no port to proxy to.`,
      );
    }
    if (svc.status !== "ready" && svc.status !== "starting") {
      throw new HiveError(
        "UNAVAILABLE",
        `Service '${svc.name}' of cell ${svc.cellId} is ${svc.status}; start it to reach it through the proxy.`,
      );
    }
    return serviceUrl(svc.port);
  }

  private prepare(req: IncomingMessage, target: ProxyTarget): string {
    req.url = target.rest;
    delete req.headers.authorization;
    const cookie = req.headers.cookie;
    if (cookie) {
      const kept = cookie
        .split(";")
        .filter((c) => !this.hiveCookies.includes(c.trim().split("=")[0] ?? ""))
        .join(";")
        .trim();
      if (kept) req.headers.cookie = kept;
      else delete req.headers.cookie;
    }
    this.targets.set(req, target);
    if (target.ownOrigin) return "";
    // The service answers as if mounted at the root; it learns its public prefix from this header.
    const prefix = proxyPrefix(target);
    req.headers["x-forwarded-prefix"] = prefix;
    return prefix;
  }
}

/** A preview (origin "null") may read what its own service answers; credentials add nothing here. */
function corsHeaders(): Record<string, string> {
  return {
    "access-control-allow-origin": "null",
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "*",
    vary: "Origin",
  };
}

/** What the service answers, made safe to serve under a prefix of Hive's origin (or on its own origin). */
function rewriteResponseHeaders(
  headers: IncomingMessage["headers"],
  req: IncomingMessage,
  target: ProxyTarget,
  hiveCookies: string[],
): void {
  const cookies = headers["set-cookie"]?.filter((c) => !hiveCookies.includes(c.split("=")[0]?.trim() ?? ""));
  if (cookies?.length) headers["set-cookie"] = cookies;
  else delete headers["set-cookie"];
  if (target.ownOrigin) return;
  const prefix = proxyPrefix(target);
  // The service thinks it lives at "/": its root-relative redirects must stay under the prefix.
  const location = headers.location;
  if (location?.startsWith("/") && !location.startsWith("//")) headers.location = prefix + location;
  // The service's own policy still applies; ours is a second one, and policies only ever add restrictions.
  const csp = headers["content-security-policy"];
  headers["content-security-policy"] = csp ? `${csp}, ${PREVIEW_SANDBOX}` : PREVIEW_SANDBOX;
  // The preview's subresources are cross-origin to its opaque origin; the capability guards them.
  headers["cross-origin-resource-policy"] = "cross-origin";
  // Keeps the capability in the preview's URLs from reaching other sites.
  headers["referrer-policy"] = "no-referrer";
  if (req.headers.origin === "null") {
    const vary = headers.vary;
    Object.assign(headers, corsHeaders(), vary ? { vary: `${vary}, Origin` } : {});
  }
  // Origin-wide powers Hive's own origin must not lend: wiping its cookies, widening a worker's scope.
  delete headers["clear-site-data"];
  delete headers["service-worker-allowed"];
}
