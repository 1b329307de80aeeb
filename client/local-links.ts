import { httpUrl } from "../shared/http-url.ts";
import type { ServiceState } from "../shared/services.ts";

/** Host names that mean "this machine": printed by a dev server, they mean Hive's machine. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "0.0.0.0", "[::1]", "[::]"]);

/**
 * A link printed in a terminal of a cell (`http://localhost:5173/app`) that points at one of the cell's
 * services, as the browser can open it wherever it runs: through Hive's proxy. Undefined for any other
 * link, which opens as printed.
 */
export function throughHive(
  uri: string,
  services: readonly Pick<ServiceState, "port" | "proxyPath">[],
): string | undefined {
  const url = httpUrl(uri);
  if (!url) return undefined;
  if (!LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.endsWith(".localhost")) return undefined;
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const proxyPath = services.find((s) => s.port === port && s.proxyPath)?.proxyPath;
  return proxyPath ? `${proxyPath}${url.pathname.slice(1)}${url.search}${url.hash}` : undefined;
}
