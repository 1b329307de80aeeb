import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { AgentSnapshot } from "../../shared/agents.ts";
import { HiveError } from "../../shared/errors.ts";
import type { AgentStatus, Cell } from "../../shared/records.ts";
import type { AgentsDeps } from "./agents.ts";
import type { EventRouter } from "./event-router.ts";
import type { Inbox } from "./inbox.ts";
import { OpencodeServer, reapOrphan } from "./opencode-server.ts";
import { type ConfigChange, WorkspaceServer } from "./workspace-server.ts";

/**
 * Every workspace's OpenCode server, from its first use (or Hive's restart) to shutdown, and what its
 * life means to the workspace's agents: a failed start, a changed opencode.json, and an event stream
 * that (re)connected after which their state is read back from OpenCode. Kept apart from `Agents`,
 * which works on one cell's agent at a time, because all of this concerns every agent of a workspace.
 */

/** A run is under way: the agent works, or waits for a person in the middle of it. */
export const isBusy = (status: AgentStatus) => status === "working" || status === "waiting";

export interface WorkspaceServersDeps
  extends Pick<
    AgentsDeps,
    "cells" | "workspaces" | "bus" | "layout" | "opencodeEnv" | "extraConfig" | "toolsConfigDir"
  > {
  router: EventRouter;
  inbox: Inbox;
  /** Records which cell a session works for. */
  track(sessionId: string, cellId: string): void;
  setStatus(cellId: string, status: AgentStatus, detail: string | null): void;
  snapshot(cellId: string): Promise<AgentSnapshot>;
}

export class WorkspaceServers {
  private readonly servers = new Map<string, WorkspaceServer>();
  private stopped = false;

  constructor(private readonly deps: WorkspaceServersDeps) {}

  /** The workspace's server, made on first use (OpenCode itself starts with the first request). */
  serverFor(workspaceId: string): WorkspaceServer {
    if (this.stopped) throw new HiveError("UNAVAILABLE", "Hive is shutting down.");
    let ws = this.servers.get(workspaceId);
    if (!ws) {
      const workspace = this.deps.workspaces.get(workspaceId);
      ws = new WorkspaceServer({
        workspace,
        ...OpencodeServer.files(this.deps.layout, workspace.slug),
        extraConfig: this.deps.extraConfig?.(workspace) ?? {},
        env: {
          ...this.deps.opencodeEnv,
          ...(this.deps.toolsConfigDir ? { OPENCODE_CONFIG_DIR: this.deps.toolsConfigDir(workspace) } : {}),
        },
        onState: (state) => {
          if (state.kind === "failed")
            this.forEachAgent(workspaceId, (c) => this.deps.setStatus(c.id, "error", state.message));
        },
        onEvent: (e) => this.deps.router.handle(e),
        onEventsOpen: () => void this.resync(workspaceId),
        busy: () => this.deps.cells.list(workspaceId).some((c) => isBusy(c.agentStatus)),
        onConfigChange: (change) => this.configChanged(workspaceId, change),
      });
      this.servers.set(workspaceId, ws);
    }
    return ws;
  }

  /** The workspace's server if one was made, without making one. */
  existing(workspaceId: string): WorkspaceServer | undefined {
    return this.servers.get(workspaceId);
  }

  /** Each running OpenCode server's pid (its process group), for the resource view. */
  processes(): { workspaceId: string; pid: number }[] {
    return [...this.servers].flatMap(([workspaceId, ws]) =>
      ws.server.pid === undefined ? [] : [{ workspaceId, pid: ws.server.pid }],
    );
  }

  private forEachAgent(workspaceId: string, fn: (cell: Cell) => void): void {
    for (const cell of this.deps.cells.list(workspaceId)) {
      if (cell.opencodeSessionId && cell.status !== "archived" && cell.status !== "deleting") fn(cell);
    }
  }

  /** Each agent of the workspace says what a change to opencode.json does to it. */
  private configChanged(workspaceId: string, change: ConfigChange): void {
    this.forEachAgent(workspaceId, (c) => {
      if (change.kind === "restarting")
        this.deps.setStatus(c.id, "starting", "opencode.json changed: restarting OpenCode with it…");
      else if (change.kind === "waiting")
        this.deps.setStatus(
          c.id,
          c.agentStatus,
          "opencode.json changed: OpenCode restarts with it once this workspace's agents are idle.",
        );
      else if (change.kind === "invalid")
        this.deps.setStatus(c.id, c.agentStatus, `${change.message} OpenCode keeps its previous settings.`);
      else if (c.agentStatusDetail?.includes("opencode.json")) this.deps.setStatus(c.id, c.agentStatus, null);
    });
  }

  /**
   * After OpenCode (re)started or its event stream reconnected: statuses and waiting requests are read
   * back from OpenCode, and every open agent pane gets the transcript afresh.
   */
  private async resync(workspaceId: string): Promise<void> {
    const cells: Cell[] = [];
    this.forEachAgent(workspaceId, (c) => {
      this.deps.track(c.opencodeSessionId!, c.id);
      cells.push(c);
    });
    const ws = this.servers.get(workspaceId);
    if (!ws) return;
    for (const cell of cells) {
      try {
        const dir = cell.worktreePath!;
        const statuses = await ws.api.request<Record<string, { type: string }>>(
          "GET",
          "/session/status",
          dir,
        );
        const busy = statuses[cell.opencodeSessionId!]?.type === "busy";
        const permissions = await ws.api.request<{ id: string; sessionID: string }[]>(
          "GET",
          "/permission",
          dir,
        );
        const questions = await ws.api.request<{ id: string; sessionID: string }[]>("GET", "/question", dir);
        for (const req of permissions)
          this.deps.router.handle({ type: "permission.asked", properties: { ...req } });
        for (const req of questions)
          this.deps.router.handle({ type: "question.asked", properties: { ...req } });
        if (this.deps.inbox.list(cell.id).length === 0)
          this.deps.setStatus(cell.id, busy ? "working" : "idle", null);
        const snapshot = await this.deps.snapshot(cell.id);
        this.deps.bus.emit("agent.event", { cellId: cell.id, event: { type: "reset", snapshot } });
      } catch {
        // The server went away again; its next start resyncs.
      }
    }
  }

  /** Re-attaches the agents of existing cells after a Hive restart, in the background. */
  recover(): void {
    for (const f of readdirSync(this.deps.layout.runDir)) {
      if (/^opencode-.*\.json$/.test(f)) reapOrphan(join(this.deps.layout.runDir, f));
    }
    const workspaces = new Set<string>();
    for (const cell of this.deps.cells.list()) {
      if (!cell.opencodeSessionId || cell.status === "archived" || cell.status === "deleting") continue;
      this.deps.track(cell.opencodeSessionId, cell.id);
      workspaces.add(cell.workspaceId);
    }
    for (const id of workspaces) {
      try {
        void this.serverFor(id)
          .server.url()
          .catch(() => {});
      } catch {
        // The workspace is gone; its cells' agents stay as they were recorded.
      }
    }
  }

  /** Stops the OpenCode of a workspace removed from Hive. */
  async forget(workspaceId: string): Promise<void> {
    const ws = this.servers.get(workspaceId);
    this.servers.delete(workspaceId);
    await ws?.stop();
  }

  /** Stops every OpenCode Hive started; none starts after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
    this.servers.clear();
  }
}
