import { z } from "zod";

/** A path pattern that must stay inside the repository it is resolved against. */
const relativePattern = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(p), "must be relative to the repository root")
  .refine((p) => !p.split(/[\\/]/).includes(".."), "must not contain '..' (it would leave the repository)");

export const ServiceSchema = z
  .object({
    run: z.string().min(1).describe("Shell command that starts the service (cwd: the cell's worktree)."),
    cwd: relativePattern.optional().describe("Working directory relative to the worktree."),
    env: z.record(z.string(), z.string()).optional(),
    port: z
      .union([z.boolean(), z.number().int().min(1).max(65535)])
      .optional()
      .describe("A port is allocated for every service ($PORT) unless false. A number: try that port first."),
    ports: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/))
      .optional()
      .describe("Names of extra ports to allocate ($HIVE_PORT_<SERVICE>_<NAME>)."),
    readyPattern: z.string().optional().describe("Regular expression matched against the service's output."),
    readyUrl: z.string().optional().describe("URL answering 2xx once ready; $PORT is substituted."),
    readyPort: z.boolean().optional().describe("Ready once the service's port accepts connections."),
    readyTimeoutMs: z.number().int().positive().optional(),
    dependsOn: z.array(z.string()).optional(),
    restart: z.enum(["no", "on-failure", "always"]).optional(),
    stopSignal: z
      .string()
      .regex(/^SIG[A-Z0-9]+$/)
      .optional(),
    stopTimeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type ServiceConfig = z.infer<typeof ServiceSchema>;

export const AgentChoiceSchema = z
  .object({
    providerId: z.string().min(1),
    modelId: z.string().min(1),
    mode: z.enum(["build", "plan"]).optional(),
  })
  .strict();
export type AgentChoice = z.infer<typeof AgentChoiceSchema>;

export const SetupCommandSchema = z.union([
  z.string().min(1),
  z.object({ run: z.string().min(1), timeoutMs: z.number().int().positive().optional() }).strict(),
]);

export const TemplateSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, "letters, digits, '.', '_' or '-'"),
    label: z.string().min(1),
    description: z.string().optional(),
    setup: z.array(SetupCommandSchema).default([]),
    include: z
      .array(relativePattern)
      .default([])
      .describe("Glob patterns of files to copy into the worktree."),
    env: z.record(z.string(), z.string()).default({}),
    services: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/), ServiceSchema).default({}),
    prompts: z
      .array(relativePattern)
      .default([])
      .describe("Prompt fragment files, relative to the repository."),
    agent: AgentChoiceSchema.optional(),
    worktreeRoot: z.string().optional().describe("Where this template's worktrees go (absolute or ~)."),
    setupTimeoutMs: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const names = Object.keys(t.services);
    for (const [name, svc] of Object.entries(t.services)) {
      for (const dep of svc.dependsOn ?? []) {
        if (!names.includes(dep)) {
          ctx.addIssue({
            code: "custom",
            path: ["services", name, "dependsOn"],
            message: `unknown service '${dep}' (known: ${names.join(", ") || "none"})`,
          });
        }
      }
      const checks = (["readyPattern", "readyUrl", "readyPort"] as const).filter((k) => svc[k] !== undefined);
      if (checks.length > 1) {
        ctx.addIssue({
          code: "custom",
          path: ["services", name, checks[1]!],
          message: `give one ready check, not ${checks.join(" and ")}`,
        });
      }
      if (svc.readyPort && svc.port === false) {
        ctx.addIssue({
          code: "custom",
          path: ["services", name, "readyPort"],
          message: "needs a port, but this service has port: false",
        });
      }
      if (svc.readyPattern !== undefined) {
        try {
          new RegExp(svc.readyPattern);
        } catch (e) {
          ctx.addIssue({
            code: "custom",
            path: ["services", name, "readyPattern"],
            message: `not a valid regular expression: ${(e as Error).message}`,
          });
        }
      }
    }
    const cycle = findCycle(t.services);
    if (cycle) {
      ctx.addIssue({
        code: "custom",
        path: ["services", cycle[0]!, "dependsOn"],
        message: `dependency cycle: ${cycle.join(" -> ")}`,
      });
    }
  });
export type Template = z.infer<typeof TemplateSchema>;
export type TemplateInput = z.input<typeof TemplateSchema>;

export const HiveConfigSchema = z
  .object({
    $schema: z.string().optional(),
    defaults: z
      .object({
        templateId: z.string().optional(),
        worktreeRoot: z.string().optional(),
        setupTimeoutMs: z.number().int().positive().optional(),
        agent: AgentChoiceSchema.optional(),
      })
      .strict()
      .default({}),
    templates: z.array(TemplateSchema).min(1, "at least one template"),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.templates.forEach((t, i) => {
      if (seen.has(t.id))
        ctx.addIssue({ code: "custom", path: ["templates", i, "id"], message: `duplicate id '${t.id}'` });
      seen.add(t.id);
    });
    if (c.defaults.templateId && !seen.has(c.defaults.templateId)) {
      ctx.addIssue({
        code: "custom",
        path: ["defaults", "templateId"],
        message: `no template with id '${c.defaults.templateId}'`,
      });
    }
  });
export type HiveConfig = z.infer<typeof HiveConfigSchema>;

/** Used when a workspace has no hive.config.json. */
export const DEFAULT_CONFIG: HiveConfig = HiveConfigSchema.parse({
  templates: [
    { id: "basic", label: "Basic", description: "A worktree on its own branch: no setup, no services." },
  ],
});

/** One problem in a config file, located for a person to fix. */
export const ConfigIssueSchema = z.object({
  path: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  message: z.string(),
});
export type ConfigIssue = z.infer<typeof ConfigIssueSchema>;

/** Topological order check: returns one cycle as a list of names, or undefined. */
export function findCycle(services: Record<string, { dependsOn?: string[] }>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of services[name]?.dependsOn ?? []) {
      if (!(dep in services)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
