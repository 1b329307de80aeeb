import { EventEmitter } from "node:events";
import type { AgentChannelEvent, InboxEvent } from "../../shared/agents.ts";
import type { FilesEvent } from "../../shared/diffs.ts";
import type { Cell, TimingEvent, Workspace } from "../../shared/records.ts";
import type { ServiceState } from "../../shared/services.ts";
import type { TerminalInfo } from "../../shared/terminals.ts";

/**
 * Every domain event, by name. Domain modules emit these; transport/ turns them into socket frames.
 * A module that adds events adds its entries here, so the whole vocabulary stays in one place.
 */
export interface DomainEvents {
  "workspace.added": { workspace: Workspace };
  /** A workspace was removed from Hive (its repository untouched); what Hive ran for it stops. */
  "workspace.removed": { workspace: Workspace };
  "config.changed": { workspaceId: string };
  "cell.updated": { cell: Cell };
  "cell.removed": { cellId: string; workspaceId: string };
  "cell.step": { cellId: string; workspaceId: string; timing: TimingEvent };
  /** Output of a running setup command, for the live checklist. */
  "cell.output": { cellId: string; step: string; chunk: string };
  /** The current sub-step of a running step ("copied 200 files"), for the live checklist. */
  "cell.progress": { cellId: string; step: string; detail: string };
  /** A service of a cell changed status (started, ready, crashed, stopped); see services/services.ts. */
  "service.updated": { service: ServiceState };
  /** A service left its cell (the cell was deleted, or the template no longer has it). */
  "service.removed": { cellId: string; name: string };
  /** A sign-in session ended (revoked or token rotated): its sockets must close. See transport/auth.ts. */
  "auth.session.revoked": { sessionId: string };
  /** A shell was opened in a cell, or found again in the PTY host after a restart; see terminals/. */
  "terminal.opened": { terminal: TerminalInfo };
  "terminal.updated": { terminal: TerminalInfo; change: "exit" | "resized" | "renamed" };
  /** Closed by a user, with its cell, or lost with the PTY host. */
  "terminal.closed": { terminal: TerminalInfo };
  /** Live event of a cell's agent (streamed text, tool calls, status); see agents/agents.ts. */
  "agent.event": { cellId: string; event: AgentChannelEvent };
  /** An agent started or stopped waiting for a person (the global inbox). */
  "agent.inbox": { event: InboxEvent };
  /** A watched cell's diff changed (only the entries that differ); see watch/files-channel.ts. */
  "files.changed": { cellId: string; event: FilesEvent };
}

export type DomainEventName = keyof DomainEvents;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every socket subscribes; the default of 10 would warn about a leak that is not one.
    this.emitter.setMaxListeners(0);
  }

  emit<K extends DomainEventName>(name: K, payload: DomainEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Subscribes and returns the function that unsubscribes. */
  on<K extends DomainEventName>(name: K, listener: (payload: DomainEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
