import { z } from "zod";
import { ConfigIssueSchema, TemplateSchema } from "./config.ts";

export const WorkspaceSchema = z.object({
  id: z.string(),
  path: z.string(),
  slug: z.string(),
  name: z.string(),
  createdAt: z.string(),
});
export type Workspace = z.infer<typeof WorkspaceSchema>;

export const CELL_STATUSES = ["spawning", "ready", "error", "deleting", "archived"] as const;
export const CellStatusSchema = z.enum(CELL_STATUSES);
export type CellStatus = z.infer<typeof CellStatusSchema>;

export const BRANCH_STATUSES = ["active", "pending_review", "conflict", "merged", "abandoned"] as const;
export const BranchStatusSchema = z.enum(BRANCH_STATUSES);

export const AGENT_STATUSES = ["none", "starting", "idle", "working", "waiting", "error"] as const;
export const AgentStatusSchema = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

export const CellSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  templateId: z.string(),
  workspaceId: z.string(),
  workspacePath: z.string(),
  worktreePath: z.string().nullable(),
  branchName: z.string().nullable(),
  baseRef: z.string().nullable(),
  baseCommit: z.string().nullable(),
  status: CellStatusSchema,
  /** The step a running or failed workflow is in. */
  currentStep: z.string().nullable(),
  lastSetupError: z.string().nullable(),
  opencodeSessionId: z.string().nullable(),
  agentStatus: AgentStatusSchema,
  agentStatusDetail: z.string().nullable(),
  branchStatus: BranchStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Cell = z.infer<typeof CellSchema>;

export const STEP_OUTCOMES = ["running", "ok", "error", "skipped"] as const;
export const StepOutcomeSchema = z.enum(STEP_OUTCOMES);
export type StepOutcome = z.infer<typeof StepOutcomeSchema>;

/** One named phase of provisioning or deletion, as recorded. Kept after the cell is deleted. */
export const TimingEventSchema = z.object({
  id: z.number().int(),
  cellId: z.string(),
  cellName: z.string(),
  workspaceId: z.string(),
  workflow: z.enum(["provision", "delete", "archive", "restore"]),
  attempt: z.number().int(),
  step: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  outcome: StepOutcomeSchema,
  detail: z.string().nullable(),
});
export type TimingEvent = z.infer<typeof TimingEventSchema>;

/** A step as the checklist shows it: planned steps are listed before they start. */
export const ChecklistStepSchema = z.object({
  /** The workflow the checklist shows: setting the cell up, or deleting it. */
  workflow: z.enum(["provision", "delete"]),
  step: z.string(),
  label: z.string(),
  state: z.enum(["pending", "running", "done", "failed", "skipped"]),
  /** false for steps that do not hold back readiness (the agent warming up). */
  gatesReady: z.boolean(),
  startedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  detail: z.string().nullable(),
});
export type ChecklistStep = z.infer<typeof ChecklistStepSchema>;

/** The checklist shows this much of a running setup command's output, its latest. */
export const SETUP_OUTPUT_TAIL_CHARS = 16_000;

export const TemplatesResponseSchema = z.object({
  workspaceId: z.string(),
  templates: z.array(TemplateSchema),
  defaultTemplateId: z.string().nullable(),
  source: z.enum(["file", "default"]),
  /** Problems in hive.config.json; when present, `templates` is the last good config. */
  errors: z.array(ConfigIssueSchema).nullable(),
});
export type TemplatesResponse = z.infer<typeof TemplatesResponseSchema>;
