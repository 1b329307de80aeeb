import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { HiveError } from "../../shared/errors.ts";
import type { Services } from "./services.ts";

/** `/cells/<cellId>/proxy/<service>` then the path inside the service. */
const PROXY_PATH = /^\/cells\/([A-Za-z0-9_-]{1,64})\/proxy\/([A-Za-z][A-Za-z0-9_-]*)(\/.*)?$/;

export interface ProxyTarget {
  cellId: string;
  service: string;
  /** The path (and query) the service itself sees. */
  rest: string;
}

/** Splits a request URL under the proxy prefix; undefined for any other URL. */
export function proxyTarget(url: string): ProxyTarget | undefined {
  const q = url.indexOf("?");
  const m = PROXY_PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return undefined;
  return { cellId: m[1]!, service: m[2]!, rest: (m[3] ?? "/") + (q < 0 ? "" : url.slice(q)) };
}

/**
 * Forwards HTTP requests and WebSocket upgrades to a cell's service by its allocated port, so a
 * remote browser reaches the service through Hive alone. Who may use it is the transport's business;
 * this strips Hive's own credentials so the service never sees them.
 */
export class ServiceProxy {
  private readonly proxy = createProxyServer({ xfwd: true });
  /** The public prefix of each request in flight, for rewriting what the service answers. */
  private readonly prefixes = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly services: Services,
    /** Hive's session cookie: removed from what the service receives. */
    private readonly hiveCookie: string,
  ) {
    // Without a listener the library rethrows; each call passes its own callback, this is the backstop.
    this.proxy.on("error", () => undefined);
    // The service thinks it lives at "/": its root-relative redirects must stay under the prefix.
    this.proxy.on("proxyRes", (proxyRes, req) => {
      const location = proxyRes.headers.location;
      const prefix = this.prefixes.get(req);
      if (prefix && location?.startsWith("/") && !location.startsWith("//")) {
        proxyRes.headers.location = prefix + location;
      }
    });
  }

  web(req: IncomingMessage, res: ServerResponse, target: ProxyTarget): void {
    const origin = this.origin(target);
    this.prepare(req, target);
    const cookiePath = `/cells/${target.cellId}/proxy/${target.service}/`;
    this.proxy.web(req, res, { target: origin, cookiePathRewrite: { "*": cookiePath } }, (err) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { "content-type": "application/json; charset=utf-8" });
      res.end(
        JSON.stringify({
          error: {
            code: "UNAVAILABLE",
            message: `Service '${target.service}' of cell ${target.cellId} did not answer at ${origin}: ${err.message}`,
          },
        }),
      );
    });
  }

  ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget): void {
    const origin = this.origin(target);
    this.prepare(req, target);
    this.proxy.ws(req, socket, head, { target: origin }, () => socket.destroy());
  }

  close(): void {
    this.proxy.close();
  }

  /** The service's address; a clear error when it has no port or is not running. */
  private origin(target: ProxyTarget): string {
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
    return `http://127.0.0.1:${svc.port}`;
  }

  private prepare(req: IncomingMessage, target: ProxyTarget): void {
    req.url = target.rest;
    delete req.headers.authorization;
    const cookie = req.headers.cookie;
    if (cookie) {
      const kept = cookie
        .split(";")
        .filter((c) => c.trim().split("=")[0] !== this.hiveCookie)
        .join(";")
        .trim();
      if (kept) req.headers.cookie = kept;
      else delete req.headers.cookie;
    }
    // The service answers as if mounted at the root; it learns its public prefix from this header.
    const prefix = `/cells/${target.cellId}/proxy/${target.service}`;
    req.headers["x-forwarded-prefix"] = prefix;
    this.prefixes.set(req, prefix);
  }
}
