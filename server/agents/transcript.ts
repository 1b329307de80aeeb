import type { AgentMessage, AgentPart } from "../../shared/agents.ts";

/** OpenCode's message records, reduced to what Hive shows; unknown fields of parts pass through. */

export interface OpencodeMessageInfo {
  id: string;
  role: "user" | "assistant";
  time?: { created?: number; completed?: number };
  agent?: string;
  mode?: string;
  providerID?: string;
  modelID?: string;
  model?: { providerID?: string; modelID?: string };
  error?: { name?: string; data?: { message?: string } };
}

export function toMessageHeader(info: OpencodeMessageInfo): Omit<AgentMessage, "parts"> {
  return {
    id: info.id,
    role: info.role,
    createdAt: info.time?.created ?? 0,
    completedAt: info.time?.completed ?? null,
    agent: info.agent ?? info.mode ?? null,
    providerId: info.providerID ?? info.model?.providerID ?? null,
    modelId: info.modelID ?? info.model?.modelID ?? null,
    error: info.error ? describeError(info.error) : null,
  };
}

export function toMessage(m: { info: OpencodeMessageInfo; parts: AgentPart[] }): AgentMessage {
  return { ...toMessageHeader(m.info), parts: m.parts };
}

/** How much of a tool call's output, and of each long input string, the chat gets up front. */
export const TOOL_PREVIEW_CHARS = 2_000;

/**
 * A part as the chat pane gets it: a tool call's output and long input strings (a whole file written)
 * cut to a preview, the rest fetched when the call is opened, and OpenCode's `metadata` dropped (it
 * repeats the output for OpenCode's own display). A read of a 200 KB file made a tool part about
 * 106 KB, so 100 reads made a 10.7 MB snapshot to fetch, send and parse at each visit of the cell.
 */
export function leanPart(part: AgentPart): AgentPart {
  if (part.type !== "tool" || !part.state) return part;
  const { metadata: _metadata, ...state } = part.state;
  const cut: { output?: number; input?: string[] } = {};
  if (typeof state.output === "string" && state.output.length > TOOL_PREVIEW_CHARS) {
    cut.output = state.output.length;
    state.output = preview(state.output);
  }
  if (state.input && typeof state.input === "object" && !Array.isArray(state.input)) {
    const input: Record<string, unknown> = { ...state.input };
    for (const [key, value] of Object.entries(input)) {
      if (typeof value !== "string" || value.length <= TOOL_PREVIEW_CHARS) continue;
      input[key] = preview(value);
      cut.input = [...(cut.input ?? []), key];
    }
    state.input = input;
  }
  return { ...part, state: cut.output !== undefined || cut.input ? { ...state, cut } : state };
}

export function leanMessage(m: AgentMessage): AgentMessage {
  return { ...m, parts: m.parts.map(leanPart) };
}

/** The first TOOL_PREVIEW_CHARS, never ending half-way through a surrogate pair. */
function preview(text: string): string {
  const end = /[\uD800-\uDBFF]/.test(text[TOOL_PREVIEW_CHARS - 1]!)
    ? TOOL_PREVIEW_CHARS - 1
    : TOOL_PREVIEW_CHARS;
  return text.slice(0, end);
}

/**
 * One sentence saying what went wrong and what to do. The model endpoint refusing is the common case:
 * OpenCode reports it as an API error with the provider's status.
 */
export function describeError(error: {
  name?: string;
  data?: { message?: string; statusCode?: number };
}): string {
  const message = (error.data?.message ?? error.name ?? "unknown error").split("\n")[0]!.slice(0, 300);
  if (error.name === "MessageAbortedError") return "Stopped.";
  if (/model not found/i.test(message)) {
    return `${message} Pick a model OpenCode knows (see the model list) or fix the provider in opencode.json.`;
  }
  if (
    error.name === "APIError" ||
    error.data?.statusCode !== undefined ||
    /fetch|ECONNREFUSED|status/i.test(message)
  ) {
    return `The model endpoint refused the request (${message}); check the provider's URL and key in opencode.json, then send the message again.`;
  }
  return `The agent failed: ${message}`;
}
