import type { AgentChannelEvent, AgentPart, InboxItem } from "../../shared/agents.ts";
import type { AgentStatus, Cell } from "../../shared/records.ts";
import type { EventBus } from "../events/bus.ts";
import type { AgentLogRepo } from "./agent-repo.ts";
import type { Inbox } from "./inbox.ts";
import type { OpencodeEvent } from "./opencode-api.ts";
import { describeError, leanPart, type OpencodeMessageInfo, toMessageHeader } from "./transcript.ts";

/**
 * Turns OpenCode's events into Hive's: each event is matched to its cell by session id, forwarded on
 * the cell's agent channel, reflected in the cell's agent status (working, idle, waiting, error),
 * put in or taken out of the inbox, and, when it is a finished piece of work, appended to the log.
 */

export interface RouterDeps {
  bus: EventBus;
  inbox: Inbox;
  log: AgentLogRepo;
  /** The id of the cell a session belongs to (its own session or one of its sub-agents'). */
  cellIdOf(sessionId: string): string | undefined;
  /** That cell, as recorded now. */
  cellOf(sessionId: string): Cell | undefined;
  /** Records that a sub-agent session belongs to the same cell as its parent. */
  adopt(childSessionId: string, parentSessionId: string): void;
  setStatus(cellId: string, status: AgentStatus, detail: string | null): void;
}

interface PermissionRequest {
  id: string;
  sessionID: string;
  permission: string;
  patterns?: string[];
  metadata?: Record<string, unknown>;
}

interface QuestionRequest {
  id: string;
  sessionID: string;
  questions: { question: string; header: string; options: { label: string }[] }[];
}

function sessionOf(e: OpencodeEvent): string | undefined {
  const p = e.properties as {
    sessionID?: string;
    info?: { sessionID?: string };
    part?: { sessionID?: string };
  };
  return p.sessionID ?? p.info?.sessionID ?? p.part?.sessionID;
}

/** A finished part worth keeping in the durable log: completed text, a tool call that ended. */
function isFinished(part: AgentPart): boolean {
  if (part.type === "text") return Boolean((part.time as { end?: number } | undefined)?.end);
  if (part.type === "tool") return part.state?.status === "completed" || part.state?.status === "error";
  return false;
}

export function permissionTitle(p: PermissionRequest): string {
  const command = (p.metadata?.command as string | undefined) ?? p.patterns?.join(", ");
  return command ? `Allow ${p.permission}: ${command}?` : `Allow ${p.permission}?`;
}

export class EventRouter {
  constructor(private readonly deps: RouterDeps) {}

  handle(e: OpencodeEvent): void {
    const sessionId = sessionOf(e);
    if (!sessionId) return;
    if (e.type === "session.created") {
      const parent = (e.properties.info as { parentID?: string } | undefined)?.parentID;
      if (parent) this.deps.adopt(sessionId, parent);
      return;
    }
    // Streamed text is most of the traffic and needs only the cell's id: no read of the cell record, which
    // cost ~150 µs a token (bench/agent-stream).
    if (e.type === "message.part.delta") {
      const cellId = this.deps.cellIdOf(sessionId);
      const d = e.properties as { messageID: string; partID: string; field: string; delta: string };
      if (cellId) {
        this.deps.bus.emit("agent.event", {
          cellId,
          event: { type: "delta", messageId: d.messageID, partId: d.partID, field: d.field, delta: d.delta },
        });
      }
      return;
    }
    const cell = this.deps.cellOf(sessionId);
    if (!cell) return;
    const isMain = cell.opencodeSessionId === sessionId;
    const emit = (event: AgentChannelEvent) => this.deps.bus.emit("agent.event", { cellId: cell.id, event });
    const p = e.properties;
    switch (e.type) {
      case "message.part.updated": {
        const part = p.part as AgentPart;
        emit({ type: "part", messageId: part.messageID ?? "", part: leanPart(part) });
        if (isFinished(part)) this.deps.log.append(cell.id, sessionId, `part.${part.type}`, part);
        return;
      }
      case "message.updated": {
        const info = p.info as OpencodeMessageInfo;
        emit({ type: "message", message: toMessageHeader(info) });
        return;
      }
      case "session.status": {
        if (!isMain) return;
        const status = p.status as { type: string; message?: string; attempt?: number };
        if (status.type === "busy") this.settle(cell, "working", null);
        else if (status.type === "retry")
          this.settle(cell, "working", `Retrying (attempt ${status.attempt}): ${status.message}`);
        else if (status.type === "idle") this.settle(cell, "idle", null);
        return;
      }
      case "session.idle":
        if (isMain) this.settle(cell, "idle", null);
        return;
      case "session.error": {
        const error = p.error as { name?: string; data?: { message?: string } } | undefined;
        if (!error) return;
        const detail = describeError(error);
        this.deps.log.append(cell.id, sessionId, "error", { error, detail });
        if (isMain)
          this.deps.setStatus(cell.id, error.name === "MessageAbortedError" ? "idle" : "error", detail);
        return;
      }
      case "permission.asked": {
        const req = p as unknown as PermissionRequest;
        this.ask(cell, {
          id: req.id,
          kind: "permission",
          sessionId,
          title: permissionTitle(req),
          detail: req.permission,
          options: [],
        });
        return;
      }
      case "question.asked": {
        const req = p as unknown as QuestionRequest;
        const first = req.questions[0];
        this.ask(cell, {
          id: req.id,
          kind: "question",
          sessionId,
          title: req.questions.map((q) => q.question).join("\n"),
          detail: first?.header ?? null,
          options: first?.options.map((o) => o.label) ?? [],
        });
        return;
      }
      case "permission.replied":
      case "question.replied":
      case "question.rejected": {
        const r = p as { requestID?: string; permissionID?: string; id?: string };
        this.answered(cell, r.requestID ?? r.permissionID ?? r.id ?? "", e.type);
        return;
      }
    }
  }

  private ask(cell: Cell, item: Omit<InboxItem, "cellId" | "cellName" | "workspaceId" | "askedAt">): void {
    const full: InboxItem = {
      ...item,
      cellId: cell.id,
      cellName: cell.name,
      workspaceId: cell.workspaceId,
      askedAt: new Date().toISOString(),
    };
    if (this.deps.inbox.get(full.id)) return;
    this.deps.inbox.add(full);
    this.deps.log.append(cell.id, item.sessionId, item.kind, full);
    this.deps.bus.emit("agent.event", { cellId: cell.id, event: { type: "waiting", item: full } });
    this.deps.setStatus(cell.id, "waiting", item.title);
  }

  /** Also called when Hive itself answered, so the inbox empties before OpenCode's echo arrives. */
  answered(cell: Cell, id: string, how: string): void {
    if (!this.deps.inbox.remove(id)) return;
    this.deps.log.append(cell.id, cell.opencodeSessionId, "answered", { id, how });
    this.deps.bus.emit("agent.event", { cellId: cell.id, event: { type: "answered", id } });
    if (this.deps.inbox.list(cell.id).length === 0) this.deps.setStatus(cell.id, "working", null);
  }

  /** Busy/idle from OpenCode, except that waiting and a reported error stay until resolved. */
  private settle(cell: Cell, status: "working" | "idle", detail: string | null): void {
    if (this.deps.inbox.list(cell.id).length > 0) return;
    const current = this.deps.cellOf(cell.opencodeSessionId ?? "") ?? cell;
    if (current.agentStatus === "error" && status === "idle") return;
    this.deps.setStatus(cell.id, status, detail);
  }
}
