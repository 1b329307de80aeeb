import { z } from "zod";

/** Records and channel events of a cell's services, shared by the server, the API and the services strip. */

export const SERVICE_STATUSES = [
  /** Not running, because nobody started it or a person stopped it. */
  "stopped",
  /** Spawned, waiting for its ready check. */
  "starting",
  "ready",
  /** Exited unexpectedly; waiting out the back-off before its restart policy starts it again. */
  "restarting",
  "stopping",
  /** Exited with code 0 and its restart policy does not bring it back. */
  "exited",
  /** Failed: crashed with restart "no", crash loop, or never became ready. `lastOutput` says why. */
  "error",
] as const;
export const ServiceStatusSchema = z.enum(SERVICE_STATUSES);
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;

export const ServiceStateSchema = z.object({
  cellId: z.string(),
  name: z.string(),
  status: ServiceStatusSchema,
  /** The main port ($PORT), when the service has one. */
  port: z.number().int().nullable(),
  /** Every allocated port by name ("" is the main port). */
  ports: z.record(z.string(), z.number().int()),
  /** http://host:port of the main port, for a local browser. */
  url: z.string().nullable(),
  /** Path of the same service through Hive's proxy, for a remote browser. */
  proxyPath: z.string().nullable(),
  pid: z.number().int().nullable(),
  restarts: z.number().int(),
  exitCode: z.number().int().nullable(),
  /** Why the service is in `error` (the output tail, or the exit), else null. */
  detail: z.string().nullable(),
  updatedAt: z.string(),
});
export type ServiceState = z.infer<typeof ServiceStateSchema>;

/** `services:<cellId>` channel: a snapshot of every service, then one event per change. */
export const ServicesSnapshotSchema = z.object({ services: z.array(ServiceStateSchema) });
export const ServicesEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("service.updated"), service: ServiceStateSchema }),
  z.object({ type: z.literal("service.removed"), cellId: z.string(), name: z.string() }),
]);
export type ServicesEvent = z.infer<typeof ServicesEventSchema>;

const UsageSchema = z.object({
  cpuPercent: z.number(),
  rssBytes: z.number().int(),
  processes: z.number().int(),
});

/**
 * One sample of a cell's processes: what each source used: `service:<name>`, `worktree` (shells, what they
 * run, and the commands its agent runs there) and `agent`, the cell's SHARE of its workspace's OpenCode
 * server: the server's CPU over the interval split evenly among the cells whose agents were busy in it
 * (counted in `cpuPercent`), and the server's whole memory, shared by every cell of the workspace (so
 * not counted in `rssBytes` or `processes`).
 */
export const ResourceSampleSchema = z.object({
  cellId: z.string(),
  at: z.string(),
  /** Percent of one core, summed over the cell's processes and its share of the agent server. */
  cpuPercent: z.number(),
  /** The cell's own processes' memory (the agent server's shared memory is in bySource.agent). */
  rssBytes: z.number().int(),
  processes: z.number().int(),
  bySource: z.record(z.string(), UsageSchema),
});
export type ResourceSample = z.infer<typeof ResourceSampleSchema>;

/**
 * A workspace's OpenCode server as a whole, in the latest sample: `busyCells` is how many cells shared its
 * CPU; with none, its CPU is the workspace's shared agent overhead, on no cell.
 */
export const AgentServerUsageSchema = UsageSchema.extend({
  workspaceId: z.string(),
  at: z.string(),
  busyCells: z.number().int(),
});
export type AgentServerUsage = z.infer<typeof AgentServerUsageSchema>;

export const ResourcesResponseSchema = z.object({
  cellId: z.string(),
  intervalMs: z.number().int(),
  latest: ResourceSampleSchema.nullable(),
  history: z.array(ResourceSampleSchema),
  /** The cell's workspace's OpenCode server, when it runs. */
  agentServer: AgentServerUsageSchema.nullable(),
});
export type ResourcesResponse = z.infer<typeof ResourcesResponseSchema>;

/** The id of a service's log channel, `svclog:<cellId>_<service>`: cell ids have no underscore, names may. */
export function serviceLogChannelId(cellId: string, service: string): string {
  return `${cellId}_${service}`;
}

export const ServiceLogResponseSchema = z.object({
  cellId: z.string(),
  name: z.string(),
  /** The log file (rotated files sit beside it as `.1`). */
  file: z.string(),
  text: z.string(),
});
export type ServiceLogResponse = z.infer<typeof ServiceLogResponseSchema>;

export const ServiceParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a valid cell id"),
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "not a valid service name"),
});
/** `POST /api/cells/:id/services/:name/preview-link`: a sign-in link to the service on its own origin. */
export const PreviewLinkSchema = z.object({ url: z.string(), expiresAt: z.string() });
export type PreviewLink = z.infer<typeof PreviewLinkSchema>;
export const ServiceActionParams = z.object({ action: z.enum(["start", "stop", "restart"]) });
export const ResourcesQuery = z.object({
  /** How far back, in minutes (at most a day). */
  minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
});
export const ServiceLogQuery = z.object({
  /** Bytes from the end of the log file. */
  bytes: z.coerce
    .number()
    .int()
    .min(1)
    .max(4 * 1024 * 1024)
    .default(64 * 1024),
});
