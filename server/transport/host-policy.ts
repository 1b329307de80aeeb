import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { hostname as machineHostname } from "node:os";
import type { TLSSocket } from "node:tls";
import { HiveError } from "../../shared/errors.ts";
import { httpUrl } from "../../shared/http-url.ts";

/** Bind addresses that listen on every interface. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]", ""]);

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** A Host header value: a name or IP literal and an optional port, nothing else (no userinfo, no path). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

function hostnameOf(hostHeader: string): string | undefined {
  const m = HOST_HEADER.exec(hostHeader);
  return m ? m[1]!.toLowerCase().replace(/\.$/, "") : undefined;
}

function parseAllowedOrigin(value: string): string {
  const url = httpUrl(value);
  if (url?.pathname !== "/" || url.search || url.hash) {
    throw new HiveError(
      "BAD_REQUEST",
      `--allow-origin '${value}' is not an origin; give scheme, host and optional port, like https://hive.example.com`,
      { allowOrigin: value },
    );
  }
  return url.origin;
}

export interface HostPolicyOptions {
  /** The address Hive listens on (--host). */
  bindHost: string;
  /** Extra browser origins allowed to drive Hive (--allow-origin), e.g. a reverse proxy's. */
  allowOrigins: string[];
  /** Believe X-Forwarded-For / X-Forwarded-Proto (--trust-proxy). */
  trustProxy: boolean;
}

/**
 * Which Host names and Origins a request may carry. The Host check defeats DNS rebinding: a page
 * on attacker.example whose name is re-pointed at 127.0.0.1 still sends `Host: attacker.example`.
 * IP literals are always accepted, since no rebinding happens without a name.
 */
export class HostPolicy {
  private readonly names = new Set(["localhost"]);
  private readonly origins: Set<string>;

  constructor(private readonly opts: HostPolicyOptions) {
    this.origins = new Set(opts.allowOrigins.map(parseAllowedOrigin));
    for (const origin of this.origins) this.names.add(new URL(origin).hostname);
    const bind = opts.bindHost.toLowerCase();
    if (!isWildcardHost(bind) && !isIP(bind)) this.names.add(bind);
    if (!isLoopbackHost(bind)) {
      // Reachable from other machines: they will use this machine's name.
      const own = machineHostname().toLowerCase();
      this.names.add(own);
      if (!own.includes(".")) this.names.add(`${own}.local`);
    }
  }

  hostAllowed(hostHeader: string | undefined): boolean {
    const name = hostHeader === undefined ? undefined : hostnameOf(hostHeader);
    if (name === undefined) return false;
    return isIP(name.replace(/^\[|\]$/g, "")) !== 0 || this.names.has(name);
  }

  /**
   * A browser always sends Origin on WebSocket and cross-origin requests; programs (curl, tests)
   * may omit it and still need the token. "null" (sandboxed frames, file://) is never allowed.
   * Own origin = same host and port as the Host header, in either scheme.
   */
  originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
    if (origin === undefined) return true;
    const url = httpUrl(origin);
    if (!url) return false;
    if (this.origins.has(url.origin)) return true;
    if (hostHeader === undefined || hostnameOf(hostHeader) === undefined) return false;
    return new URL(`${url.protocol}//${hostHeader}`).host === url.host;
  }

  /** The client's address for rate limiting: the socket peer, or the proxy's last hop when trusted. */
  clientAddress(req: IncomingMessage): string {
    const forwarded = this.opts.trustProxy ? firstHeader(req.headers["x-forwarded-for"]) : undefined;
    const last = forwarded?.split(",").at(-1)?.trim();
    return (last || req.socket.remoteAddress || "unknown").replace(/^::ffff:/, "");
  }

  isHttps(req: IncomingMessage): boolean {
    if ((req.socket as TLSSocket).encrypted) return true;
    if (!this.opts.trustProxy) return false;
    return firstHeader(req.headers["x-forwarded-proto"])?.split(",")[0]?.trim().toLowerCase() === "https";
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
