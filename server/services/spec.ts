import { join } from "node:path";
import { z } from "zod";
import type { ServiceConfig, Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";
import type { PortRequest } from "./ports.ts";
import type { ReadyCheck } from "./ready.ts";

export const DEFAULT_READY_TIMEOUT_MS = 60_000;
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/**
 * A service as a cell runs it: its template entry resolved against the cell (absolute cwd, template
 * env merged in). Stored with the service so a restart or an adoption after a Hive restart runs what
 * was provisioned, even if the config file changed since. Ports are not in it: they are the cell's
 * (see portRequests), allocated before any step runs.
 */
export const ServiceSpecSchema = z.object({
  name: z.string(),
  run: z.string(),
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  ready: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("pattern"), source: z.string() }),
    z.object({ kind: z.literal("url"), url: z.string() }),
    z.object({ kind: z.literal("port") }),
    z.object({ kind: z.literal("spawned") }),
  ]),
  readyTimeoutMs: z.number().int(),
  restart: z.enum(["no", "on-failure", "always"]),
  stopSignal: z.string(),
  stopTimeoutMs: z.number().int(),
  dependsOn: z.array(z.string()),
});
export type ServiceSpec = Omit<z.infer<typeof ServiceSpecSchema>, "stopSignal"> & {
  stopSignal: NodeJS.Signals;
};

export function parseSpec(json: string): ServiceSpec {
  return ServiceSpecSchema.parse(JSON.parse(json)) as ServiceSpec;
}

export function specOf(cell: Cell, template: Template, name: string, svc: ServiceConfig): ServiceSpec {
  if (!cell.worktreePath)
    throw new HiveError("CELL_STATE", `Cell ${cell.id} has no worktree to run services in.`);
  const ready: ServiceSpec["ready"] =
    svc.readyPattern !== undefined
      ? { kind: "pattern", source: svc.readyPattern }
      : svc.readyUrl !== undefined
        ? { kind: "url", url: svc.readyUrl }
        : svc.readyPort
          ? { kind: "port" }
          : { kind: "spawned" };
  return {
    name,
    run: svc.run,
    cwd: join(cell.worktreePath, svc.cwd ?? "."),
    env: { ...template.env, ...svc.env },
    ready,
    readyTimeoutMs: svc.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    restart: svc.restart ?? "on-failure",
    stopSignal: (svc.stopSignal ?? "SIGTERM") as NodeJS.Signals,
    stopTimeoutMs: svc.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    dependsOn: svc.dependsOn ?? [],
  };
}

/** The ports a template's services need: a main one ("") unless `port: false`, and each named extra. */
export function portRequests(template: Template): PortRequest[] {
  return Object.entries(template.services).flatMap(([service, svc]) => [
    ...(svc.port === false
      ? []
      : [{ service, name: "", preferred: typeof svc.port === "number" ? svc.port : undefined }]),
    ...(svc.ports ?? []).map((name) => ({ service, name })),
  ]);
}

/** The template's services, each after the ones it depends on (otherwise in the order written). */
export function startOrder(services: Record<string, { dependsOn?: string[] }>): string[] {
  const order: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (order.includes(name)) return;
    if (path.includes(name))
      throw new HiveError("TEMPLATE_INVALID", `dependency cycle: ${[...path, name].join(" -> ")}`);
    for (const dep of services[name]?.dependsOn ?? []) if (dep in services) visit(dep, [...path, name]);
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return order;
}

/** `$PORT`, `${PORT}`, `$HIVE_PORT_WEB` ... in a ready URL, from the service's environment. */
export function substituteEnv(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (m, a, b) => env[a ?? b] ?? m,
  );
}

export function readyCheckOf(spec: ServiceSpec, env: Record<string, string>, host: string): ReadyCheck {
  switch (spec.ready.kind) {
    case "pattern":
      return { kind: "pattern", pattern: new RegExp(spec.ready.source) };
    case "url":
      return { kind: "url", url: substituteEnv(spec.ready.url, env) };
    case "port": {
      const port = Number(env.PORT);
      if (!port) throw new HiveError("TEMPLATE_INVALID", `Service '${spec.name}' has readyPort but no port.`);
      return { kind: "port", host, port };
    }
    case "spawned":
      return { kind: "spawned" };
  }
}
