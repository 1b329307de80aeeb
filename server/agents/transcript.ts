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
