import { z } from "zod";
import { IdParams } from "./api.ts";
import { AgentStatusSchema } from "./records.ts";

/** The agent in a cell, as server and client see it: transcript, live events, the inbox, commands. */

export const AGENT_MODES = ["build", "plan"] as const;
export const AgentModeSchema = z.enum(AGENT_MODES);
export type AgentMode = z.infer<typeof AgentModeSchema>;

/** One part of a message as OpenCode reports it (text, tool call, step markers ...); extra fields kept. */
export const AgentPartSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  messageID: z.string().optional(),
  text: z.string().optional(),
  tool: z.string().optional(),
  callID: z.string().optional(),
  state: z
    .looseObject({
      status: z.string(),
      input: z.unknown().optional(),
      output: z.unknown().optional(),
      error: z.unknown().optional(),
      title: z.string().optional(),
      /**
       * Set when the chat got a preview: `output` is the full output's length, `input` names the input
       * fields that were cut. The whole part is at GET /api/cells/:id/agent/messages/:messageId/parts/:partId.
       */
      cut: z
        .object({ output: z.number().int().optional(), input: z.array(z.string()).optional() })
        .optional(),
    })
    .optional(),
});
export type AgentPart = z.infer<typeof AgentPartSchema>;

/** OpenCode's message and part ids (`msg_…`, `prt_…`). */
const openCodeId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "not a valid OpenCode id");
export const PartParams = IdParams.extend({ messageId: openCodeId, partId: openCodeId });

export const AgentMessageSchema = z.object({
  id: z.string(),
  role: z.enum(["user", "assistant"]),
  createdAt: z.number(),
  completedAt: z.number().nullable(),
  agent: z.string().nullable(),
  providerId: z.string().nullable(),
  modelId: z.string().nullable(),
  /** A failed turn's error, in words. */
  error: z.string().nullable(),
  parts: z.array(AgentPartSchema),
});
export type AgentMessage = z.infer<typeof AgentMessageSchema>;

export const InboxItemSchema = z.object({
  /** OpenCode's permission or question request id. */
  id: z.string(),
  kind: z.enum(["permission", "question"]),
  cellId: z.string(),
  cellName: z.string(),
  workspaceId: z.string(),
  sessionId: z.string(),
  /** What the agent asks, in words: "Run `rm -rf build`?" or the question itself. */
  title: z.string(),
  /** Permission kind (bash, edit ...) or the question's short header. */
  detail: z.string().nullable(),
  /** A question's choices (labels). */
  options: z.array(z.string()),
  askedAt: z.string(),
});
export type InboxItem = z.infer<typeof InboxItemSchema>;

export const ModelRefSchema = z.object({ providerId: z.string(), modelId: z.string() });
export type ModelRef = z.infer<typeof ModelRefSchema>;

/** One call the agent made to a Hive tool, as recorded in the cell's activity. */
export const AgentActivitySchema = z.object({
  id: z.number().int(),
  cellId: z.string(),
  tool: z.string(),
  input: z.unknown(),
  ok: z.boolean(),
  summary: z.string(),
  at: z.string(),
});
export type AgentActivity = z.infer<typeof AgentActivitySchema>;

/** A session's latest messages, as the chat gets them, and whether earlier ones exist. */
export const LatestMessagesSchema = z.object({ messages: z.array(AgentMessageSchema), earlier: z.boolean() });
export type LatestMessages = z.infer<typeof LatestMessagesSchema>;
export const LatestQuery = z.object({ count: z.coerce.number().int().min(1).max(100_000) });

/** Snapshot of the `agent:<cellId>` channel. */
export const AgentSnapshotSchema = z.object({
  cellId: z.string(),
  sessionId: z.string().nullable(),
  status: AgentStatusSchema,
  detail: z.string().nullable(),
  mode: AgentModeSchema,
  model: ModelRefSchema.nullable(),
  /** The latest messages; `earlier` when there are more before them (GET …/agent/messages/latest?count=). */
  messages: z.array(AgentMessageSchema),
  earlier: z.boolean(),
  waiting: z.array(InboxItemSchema),
  /** The latest calls the agent made to Hive's tools, oldest first. */
  activity: z.array(AgentActivitySchema),
});
export type AgentSnapshot = z.infer<typeof AgentSnapshotSchema>;

/** Events of the `agent:<cellId>` channel, applied in order onto the snapshot. */
export const AgentChannelEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), status: AgentStatusSchema, detail: z.string().nullable() }),
  z.object({ type: z.literal("message"), message: AgentMessageSchema.omit({ parts: true }) }),
  z.object({ type: z.literal("part"), messageId: z.string(), part: AgentPartSchema }),
  /** Streamed text: append `delta` to the part's `field`. */
  z.object({
    type: z.literal("delta"),
    messageId: z.string(),
    partId: z.string(),
    field: z.string(),
    delta: z.string(),
  }),
  z.object({ type: z.literal("waiting"), item: InboxItemSchema }),
  z.object({ type: z.literal("answered"), id: z.string() }),
  z.object({ type: z.literal("mode"), mode: AgentModeSchema }),
  /** The agent called a Hive tool (services, logs, restart). */
  z.object({ type: z.literal("activity"), activity: AgentActivitySchema }),
  /** The session came or changed in a way events do not describe (created, re-attached): a new snapshot. */
  z.object({ type: z.literal("reset"), snapshot: z.lazy(() => AgentSnapshotSchema) }),
]);
export type AgentChannelEvent = z.infer<typeof AgentChannelEventSchema>;

/** Snapshot and events of the `inbox:all` channel. */
export const InboxSnapshotSchema = z.object({ items: z.array(InboxItemSchema) });
export type InboxSnapshot = z.infer<typeof InboxSnapshotSchema>;
export const InboxEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("added"), item: InboxItemSchema }),
  z.object({ type: z.literal("removed"), id: z.string() }),
]);
export type InboxEvent = z.infer<typeof InboxEventSchema>;

// HTTP bodies

export const SendMessageBody = z.object({ text: z.string().trim().min(1).max(100_000) }).strict();
export const SwitchModeBody = z.object({ mode: AgentModeSchema }).strict();
export const AnswerInboxBody = z
  .object({
    /** For a permission. */
    reply: z.enum(["once", "always", "reject"]).optional(),
    /** For a question: one list of chosen labels (or typed text) per question. */
    answers: z.array(z.array(z.string().max(10_000))).optional(),
  })
  .strict()
  .refine(
    (b) => (b.reply === undefined) !== (b.answers === undefined),
    "give exactly one of 'reply' or 'answers'",
  );
export type AnswerInboxBody = z.infer<typeof AnswerInboxBody>;

export const ProviderListSchema = z.object({
  providers: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      models: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  ),
  /** OpenCode's default model per provider. */
  defaults: z.record(z.string(), z.string()),
  /** The model OpenCode's configuration names (`model` in opencode.json), if it names one. */
  configured: ModelRefSchema.nullable(),
});
export type ProviderList = z.infer<typeof ProviderListSchema>;

export const AssembledPromptSchema = z.object({
  cellId: z.string(),
  prompt: z.string().nullable(),
  fragments: z.array(z.string()),
  createdAt: z.string(),
});
export type AssembledPrompt = z.infer<typeof AssembledPromptSchema>;

/** Hive's tools for the agent, as OpenCode offers them (`hive_<name>`). */
export const HIVE_TOOLS = ["services", "service_log", "setup_log", "restart_service"] as const;
export const HiveToolSchema = z.enum(HIVE_TOOLS);
export type HiveTool = z.infer<typeof HiveToolSchema>;

/**
 * A Hive tool call, as OpenCode's runtime sends it: who calls comes from OpenCode itself (the directory
 * the session runs in, and the session), never from the model's arguments.
 */
export const HiveToolCallBody = z
  .object({
    directory: z.string().min(1).max(4_096),
    sessionId: z.string().min(1).max(200),
    args: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export const HiveToolServiceArgs = z.object({ service: z.string().min(1).max(100) }).strict();
export const HiveToolNoArgs = z.object({}).strict();
