/** How a cell's ports are named in the environment of its processes. */

/** `web-api` → `WEB_API`: the service's part of `HIVE_PORT_<SERVICE>`. */
export function envName(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

export interface NamedPort {
  service: string;
  /** "" for the service's main port; else one of its `ports` names. */
  name: string;
  port: number;
}

/** `HIVE_PORT_<SERVICE>[_<NAME>]` and `HIVE_URL_<SERVICE>` for every port of a cell. */
export function cellPortEnv(ports: NamedPort[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of ports) {
    const key = envName(p.service) + (p.name ? `_${envName(p.name)}` : "");
    env[`HIVE_PORT_${key}`] = String(p.port);
    if (!p.name) env[`HIVE_URL_${key}`] = serviceUrl(p.port);
  }
  return env;
}

/** The env one service starts with: its cell's ports plus `$PORT` for its own main port. */
export function serviceOwnEnv(ports: NamedPort[], service: string): Record<string, string> {
  const own = ports.find((p) => p.service === service && p.name === "");
  return own ? { PORT: String(own.port) } : {};
}

/**
 * Where a service is reached on Hive's machine, whatever address Hive itself answers on (a LAN or VPN
 * one, for a remote browser): services listen on loopback or on every address, as dev servers do by
 * default, and people reach them through Hive's proxy, not directly.
 */
export const SERVICE_HOST = "127.0.0.1";

export function serviceUrl(port: number): string {
  return `http://${SERVICE_HOST}:${port}`;
}
