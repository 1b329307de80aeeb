import {
  type AgentChannelEvent,
  AgentChannelEventSchema,
  type AgentMessage,
  type AgentMode,
  type AgentPart,
  AgentPartSchema,
  type AgentSnapshot,
  AgentSnapshotSchema,
  type AnswerInboxBody,
  LatestMessagesSchema,
} from "../../shared/agents.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

/** Hive tool calls the pane keeps, as many as a snapshot brings. */
const ACTIVITY_KEPT = 50;

export interface AgentView {
  snapshot: AgentSnapshot | undefined;
  /** The last command that failed (send, stop, answer), in words. */
  error: string | undefined;
}

/** Applies one channel event to a snapshot; streamed text is appended to its part in place of a copy per token. */
export function applyAgentEvent(s: AgentSnapshot, e: AgentChannelEvent): AgentSnapshot {
  switch (e.type) {
    case "reset":
      return keepEarlier(s, e.snapshot);
    case "status":
      return { ...s, status: e.status, detail: e.detail };
    case "mode":
      return { ...s, mode: e.mode };
    case "waiting":
      return s.waiting.some((w) => w.id === e.item.id) ? s : { ...s, waiting: [...s.waiting, e.item] };
    case "answered":
      return { ...s, waiting: s.waiting.filter((w) => w.id !== e.id) };
    case "activity":
      return { ...s, activity: [...s.activity, e.activity].slice(-ACTIVITY_KEPT) };
    case "message": {
      const messages = [...s.messages];
      const i = messages.findIndex((m) => m.id === e.message.id);
      if (i >= 0) messages[i] = { ...e.message, parts: messages[i]!.parts };
      else messages.push({ ...e.message, parts: [] });
      return { ...s, messages };
    }
    case "part": {
      const messages = [...s.messages];
      const m = messageFor(messages, e.messageId);
      const i = m.parts.findIndex((p) => p.id === e.part.id);
      m.parts = i >= 0 ? m.parts.map((p, j) => (j === i ? e.part : p)) : [...m.parts, e.part];
      return { ...s, messages };
    }
    case "delta": {
      const messages = [...s.messages];
      const m = messageFor(messages, e.messageId);
      const i = m.parts.findIndex((p) => p.id === e.partId);
      const part = i >= 0 ? m.parts[i]! : { id: e.partId, type: "text", messageID: e.messageId };
      const next = { ...part, [e.field]: `${(part as Record<string, unknown>)[e.field] ?? ""}${e.delta}` };
      m.parts = i >= 0 ? m.parts.map((p, j) => (j === i ? next : p)) : [...m.parts, next];
      return { ...s, messages };
    }
  }
}

/**
 * `s` with `messages` (a longer run up to about now) in front: a message `s` already has is kept as
 * `s` has it, since events may have updated it after the fetch.
 */
function withEarlier(s: AgentSnapshot, messages: AgentMessage[], earlier: boolean): AgentSnapshot {
  const first = s.messages[0];
  const at = first ? messages.findIndex((m) => m.id === first.id) : messages.length;
  const before = at >= 0 ? messages.slice(0, at) : messages.filter((m) => m.createdAt < first!.createdAt);
  return { ...s, messages: [...before, ...s.messages], earlier };
}

/** A new snapshot of the same session keeps the earlier messages the person had fetched (after a reconnect). */
function keepEarlier(old: AgentSnapshot | undefined, next: AgentSnapshot): AgentSnapshot {
  if (!old || old.sessionId !== next.sessionId || !next.earlier) return next;
  const first = next.messages[0];
  const before = old.messages.filter((m) => first && m.createdAt < first.createdAt);
  return before.length ? { ...next, messages: [...before, ...next.messages], earlier: old.earlier } : next;
}

/** The message with this id (a copy, safe to change), added as an assistant message when not seen yet. */
function messageFor(messages: AgentMessage[], id: string): AgentMessage {
  const i = messages.findIndex((m) => m.id === id);
  const base: AgentMessage =
    i >= 0
      ? messages[i]!
      : {
          id,
          role: "assistant",
          createdAt: Date.now(),
          completedAt: null,
          agent: null,
          providerId: null,
          modelId: null,
          error: null,
          parts: [],
        };
  const copy = { ...base };
  if (i >= 0) messages[i] = copy;
  else messages.push(copy);
  return copy;
}

/** One cell's agent over `agent:<cellId>`, and its commands over HTTP. */
export class AgentStore {
  readonly view = new Store<AgentView>({ snapshot: undefined, error: undefined });
  private off: (() => void) | undefined;

  constructor(
    private readonly socket: HiveSocket,
    readonly cellId: string,
  ) {}

  start(): void {
    this.off = this.socket.subscribe(`agent:${this.cellId}`, {
      snapshot: (state) => {
        const parsed = AgentSnapshotSchema.safeParse(state);
        if (parsed.success)
          this.view.set({ ...this.view.value, snapshot: keepEarlier(this.view.value.snapshot, parsed.data) });
        else console.warn("hive: unexpected agent snapshot", parsed.error);
      },
      event: (event) => {
        const s = this.view.value.snapshot;
        const parsed = AgentChannelEventSchema.safeParse(event);
        if (s && parsed.success)
          this.view.set({ ...this.view.value, snapshot: applyAgentEvent(s, parsed.data) });
      },
      error: (_code, message) => this.view.set({ ...this.view.value, error: message }),
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  private async run(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      this.view.set({ ...this.view.value, error: undefined });
      return true;
    } catch (e) {
      this.view.set({ ...this.view.value, error: (e as Error).message });
      return false;
    }
  }

  send(text: string): Promise<boolean> {
    return this.run(() => api("POST", `/api/cells/${this.cellId}/agent/messages`, { text }));
  }

  abort(): Promise<boolean> {
    return this.run(() => api("POST", `/api/cells/${this.cellId}/agent/abort`));
  }

  setMode(mode: AgentMode): Promise<boolean> {
    return this.run(() => api("PUT", `/api/cells/${this.cellId}/agent/mode`, { mode }));
  }

  /** Fetches `more` messages before those shown (a snapshot brings only the latest). */
  showEarlier(more: number): Promise<boolean> {
    return this.run(async () => {
      const shown = this.view.value.snapshot?.messages.length ?? 0;
      const latest = await api(
        "GET",
        `/api/cells/${this.cellId}/agent/messages/latest?count=${shown + more}`,
        undefined,
        LatestMessagesSchema,
      );
      const s = this.view.value.snapshot;
      if (s) this.view.set({ ...this.view.value, snapshot: withEarlier(s, latest.messages, latest.earlier) });
    });
  }

  /** A tool call whole: snapshots and events carry a preview of long inputs and outputs. */
  wholePart(messageId: string, partId: string): Promise<AgentPart> {
    return api(
      "GET",
      `/api/cells/${this.cellId}/agent/messages/${messageId}/parts/${partId}`,
      undefined,
      AgentPartSchema,
    );
  }

  answer(id: string, body: AnswerInboxBody): Promise<boolean> {
    return this.run(() => api("POST", `/api/inbox/${id}`, body));
  }
}
