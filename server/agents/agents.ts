import type {
  AgentMessage,
  AgentMode,
  AgentPart,
  AgentSnapshot,
  AnswerInboxBody,
  AssembledPrompt,
  InboxItem,
  LatestMessages,
  ModelRef,
  ProviderList,
} from "../../shared/agents.ts";
import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { AgentStatus, Cell, Workspace } from "../../shared/records.ts";
import type { CellRepo } from "../db/cells.ts";
import type { Db } from "../db/connection.ts";
import type { EventBus } from "../events/bus.ts";
import type { HomeLayout } from "../home/home.ts";
import type { TerminalCommand } from "../terminals/terminals.ts";
import type { Workspaces } from "../workspaces/workspaces.ts";
import { AgentActivityRepo, AgentLogRepo, CellAgentRepo } from "./agent-repo.ts";
import { EventRouter } from "./event-router.ts";
import { Inbox } from "./inbox.ts";
import { chooseModel } from "./model-choice.ts";
import { opencodeBinary } from "./opencode-server.ts";
import { assemblePrompt } from "./prompt.ts";
import { leanMessage, type OpencodeMessageInfo, toMessage } from "./transcript.ts";
import { tuiCommand } from "./tui-command.ts";
import type { WorkspaceServer } from "./workspace-server.ts";
import { isBusy, WorkspaceServers } from "./workspace-servers.ts";

/** Hive tool calls a chat pane shows on opening; the API has all that are kept. */
const SNAPSHOT_ACTIVITY = 50;
/**
 * Messages a chat pane gets on opening, the latest; it fetches earlier ones when asked. OpenCode
 * answered a 106-message session (10.7 MB) in 642 ms whole, its last 20 messages in 28 ms.
 */
const SNAPSHOT_MESSAGES = 30;

export interface AgentsDeps {
  db: Db;
  cells: CellRepo;
  workspaces: Workspaces;
  bus: EventBus;
  layout: HomeLayout;
  /** Everything a process of the cell sees (template env, ports and URLs from the contributors). */
  cellEnv(cellId: string): Record<string, string>;
  /** Extra environment for OpenCode itself (tests give each run its own XDG dirs). */
  opencodeEnv?: NodeJS.ProcessEnv;
  /** OpenCode config Hive adds for every workspace. */
  extraConfig?(workspace: Workspace): Record<string, unknown>;
  /** The OPENCODE_CONFIG_DIR holding Hive's tools for the workspace's OpenCode. */
  toolsConfigDir?(workspace: Workspace): string;
}

/**
 * The agent in every cell: one session per cell in its workspace's OpenCode (started and stopped by
 * `WorkspaceServers`), the first prompt, model and mode, messages, abort, the waiting-for-you inbox, and
 * the durable log. Nothing here waits on the model: a message is handed to OpenCode and its answer
 * arrives as events.
 */
export class Agents {
  readonly inbox: Inbox;
  readonly log: AgentLogRepo;
  readonly activity: AgentActivityRepo;
  private readonly settings: CellAgentRepo;
  private readonly servers: WorkspaceServers;
  /** Session id → cell id, for the cell's own session and its sub-agents'. */
  private readonly sessions = new Map<string, string>();
  private readonly router: EventRouter;
  /** When each cell's last run ended, so a sample of OpenCode's CPU counts runs that ended within it. */
  private readonly busyEnded = new Map<string, number>();

  constructor(private readonly deps: AgentsDeps) {
    this.inbox = new Inbox(deps.bus);
    this.log = new AgentLogRepo(deps.db);
    this.activity = new AgentActivityRepo(deps.db);
    this.settings = new CellAgentRepo(deps.db);
    this.router = new EventRouter({
      bus: deps.bus,
      inbox: this.inbox,
      log: this.log,
      cellIdOf: (sessionId) => this.sessions.get(sessionId),
      cellOf: (sessionId) => {
        const cellId = this.sessions.get(sessionId);
        return cellId ? deps.cells.get(cellId) : undefined;
      },
      adopt: (child, parent) => {
        const cellId = this.sessions.get(parent);
        if (cellId) this.sessions.set(child, cellId);
      },
      setStatus: (cellId, status, detail) => this.setStatus(cellId, status, detail),
    });
    this.servers = new WorkspaceServers({
      ...deps,
      router: this.router,
      inbox: this.inbox,
      track: (sessionId, cellId) => this.sessions.set(sessionId, cellId),
      setStatus: (cellId, status, detail) => this.setStatus(cellId, status, detail),
      snapshot: (cellId) => this.snapshot(cellId),
    });
  }

  private cell(id: string): Cell {
    const cell = this.deps.cells.get(id);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${id}'.`);
    return cell;
  }

  private session(cell: Cell): { id: string; dir: string; ws: WorkspaceServer } {
    if (!cell.opencodeSessionId || !cell.worktreePath) {
      throw new HiveError(
        "CELL_STATE",
        `The agent of cell '${cell.name}' has no session yet; wait for it to start.`,
      );
    }
    return { id: cell.opencodeSessionId, dir: cell.worktreePath, ws: this.serverFor(cell.workspaceId) };
  }

  /** The workspace's OpenCode, made on first use. */
  serverFor(workspaceId: string): WorkspaceServer {
    return this.servers.serverFor(workspaceId);
  }

  /** The cell an OpenCode session works for (its own session or a sub-agent's), if Hive knows it. */
  cellOfSession(sessionId: string): string | undefined {
    return this.sessions.get(sessionId);
  }

  /** A workspace was removed from Hive (it had no cells): its OpenCode stops. */
  forgetWorkspace(workspaceId: string): Promise<void> {
    return this.servers.forget(workspaceId);
  }

  /** Each running OpenCode server's pid (its process group), for the resource view. */
  serverProcesses(): { workspaceId: string; pid: number }[] {
    return this.servers.processes();
  }

  /** The workspace's cells whose agent was busy at any time since `sinceMs` (the resource view's interval). */
  busyCells(workspaceId: string, sinceMs: number): string[] {
    return this.deps.cells
      .list(workspaceId)
      .filter((c) => isBusy(c.agentStatus) || (this.busyEnded.get(c.id) ?? 0) >= sinceMs)
      .map((c) => c.id);
  }

  setStatus(cellId: string, status: AgentStatus, detail: string | null): void {
    const before = this.deps.cells.get(cellId);
    if (!before || (before.agentStatus === status && before.agentStatusDetail === detail)) return;
    if (isBusy(before.agentStatus) && !isBusy(status)) this.busyEnded.set(cellId, Date.now());
    const cell = this.deps.cells.update(cellId, { agentStatus: status, agentStatusDetail: detail });
    if (!cell) return;
    this.deps.bus.emit("cell.updated", { cell });
    this.deps.bus.emit("agent.event", { cellId, event: { type: "status", status, detail } });
    if (!isBusy(status)) this.servers.existing(cell.workspaceId)?.applyPendingConfig();
  }

  /** Re-attaches the agents of existing cells after a Hive restart, in the background. */
  recover(): void {
    this.servers.recover();
  }

  mode(cellId: string): AgentMode {
    return this.settings.mode(cellId) ?? this.deps.cells.agentChoice(cellId)?.mode ?? "build";
  }

  setMode(cellId: string, mode: AgentMode): void {
    this.cell(cellId);
    this.settings.setMode(cellId, mode);
    this.deps.bus.emit("agent.event", { cellId, event: { type: "mode", mode } });
  }

  /** The model named for this cell (creation choice, template, workspace default), checked against OpenCode. */
  async model(cell: Cell, template?: Template): Promise<ModelRef | null> {
    const ws = this.serverFor(cell.workspaceId);
    const providers = await ws.providers(cell.worktreePath ?? cell.workspacePath);
    const config = this.deps.workspaces.config(cell.workspaceId).current.config;
    const tpl = template ?? config.templates.find((t) => t.id === cell.templateId);
    return chooseModel(providers, this.deps.cells.agentChoice(cell.id), tpl?.agent, config.defaults.agent)
      .model;
  }

  /**
   * The `ensure_agent_session` step: assembles and stores the first prompt, starts (or finds) the
   * workspace's OpenCode, finds the cell's session again or creates it, and sends the first prompt once.
   */
  async ensureSession(cellId: string, template: Template): Promise<string> {
    let cell = this.cell(cellId);
    this.setStatus(cellId, "starting", "Starting the agent…");
    try {
      const env = this.deps.cellEnv(cellId);
      const context = Object.fromEntries(
        Object.entries(env).filter(([k, v]) => process.env[k] !== v && /PORT|URL/.test(k)),
      );
      const assembled = await assemblePrompt(cell, template, env, context);
      if (!this.settings.mode(cellId)) {
        this.settings.setMode(
          cellId,
          this.deps.cells.agentChoice(cellId)?.mode ?? template.agent?.mode ?? "build",
        );
      }
      if (!this.settings.prompt(cellId)?.sentAt)
        this.settings.setPrompt(cellId, assembled.prompt, assembled.fragments);

      const ws = this.serverFor(cell.workspaceId);
      const model = await this.model(cell, template);
      const dir = cell.worktreePath!;
      let sessionId = cell.opencodeSessionId;
      if (sessionId) {
        const found = await ws.api.request("GET", `/session/${sessionId}`, dir).then(
          () => true,
          (e: HiveError) => (e.code === "NOT_FOUND" ? false : Promise.reject(e)),
        );
        if (!found) sessionId = null;
      }
      if (!sessionId) {
        const created = await ws.api.request<{ id: string }>("POST", "/session", dir, { title: cell.name });
        sessionId = created.id;
      }
      this.sessions.set(sessionId, cellId);
      cell = this.deps.cells.update(cellId, { opencodeSessionId: sessionId }) ?? cell;
      this.setStatus(cellId, "idle", null);
      // A page that subscribed before the session existed holds no session id, so it cannot send yet.
      const snapshot = await this.snapshot(cellId);
      this.deps.bus.emit("agent.event", { cellId, event: { type: "reset", snapshot } });
      const prompt = this.settings.prompt(cellId);
      if (prompt?.prompt && !prompt.sentAt) {
        await this.post(cell, prompt.prompt, model);
        this.settings.markPromptSent(cellId);
        return `session ${sessionId}; first prompt sent (${prompt.prompt.length} characters${model ? `, ${model.providerId}/${model.modelId}` : ""})`;
      }
      return `session ${sessionId}; ${prompt?.sentAt ? "first prompt already sent" : "no description, so no first prompt"}`;
    } catch (e) {
      this.setStatus(
        cellId,
        "error",
        e instanceof HiveError ? e.message : `The agent could not start: ${(e as Error).message}`,
      );
      throw e;
    }
  }

  private async post(cell: Cell, text: string, model: ModelRef | null): Promise<void> {
    const { id, dir, ws } = this.session(cell);
    await ws.api.request("POST", `/session/${id}/prompt_async`, dir, {
      parts: [{ type: "text", text }],
      agent: this.mode(cell.id),
      ...(model ? { model: { providerID: model.providerId, modelID: model.modelId } } : {}),
    });
    this.log.append(cell.id, id, "user", { text });
  }

  /** Hands a message to the agent; the answer streams on the cell's agent channel. */
  async send(cellId: string, text: string): Promise<void> {
    const cell = this.cell(cellId);
    this.session(cell);
    await this.post(cell, text, await this.model(cell));
  }

  async abort(cellId: string): Promise<void> {
    const { id, dir, ws } = this.session(this.cell(cellId));
    await ws.api.request("POST", `/session/${id}/abort`, dir);
  }

  async answer(itemId: string, body: AnswerInboxBody): Promise<void> {
    const item = this.inbox.get(itemId);
    if (!item)
      throw new HiveError("NOT_FOUND", `Nothing is waiting with id '${itemId}' (already answered?).`);
    const cell = this.cell(item.cellId);
    const { dir, ws } = this.session(cell);
    if (item.kind === "permission") {
      if (!body.reply)
        throw new HiveError(
          "BAD_REQUEST",
          "A permission request is answered with 'reply': once, always or reject.",
        );
      await ws.api.request("POST", `/permission/${item.id}/reply`, dir, { reply: body.reply });
    } else if (body.reply === "reject") {
      await ws.api.request("POST", `/question/${item.id}/reject`, dir);
    } else {
      if (!body.answers)
        throw new HiveError("BAD_REQUEST", "A question is answered with 'answers' (or 'reply': reject).");
      await ws.api.request("POST", `/question/${item.id}/reply`, dir, { answers: body.answers });
    }
    this.router.answered(cell, item.id, body.reply ?? "answered");
  }

  /** The whole transcript, from OpenCode's store. */
  async transcript(cellId: string): Promise<AgentMessage[]> {
    const { id, dir, ws } = this.session(this.cell(cellId));
    const raw = await ws.api.request<{ info: OpencodeMessageInfo; parts: AgentMessage["parts"] }[]>(
      "GET",
      `/session/${id}/message`,
      dir,
    );
    return raw.map(toMessage);
  }

  /** The latest `count` messages as the chat gets them (see leanPart), and whether earlier ones exist. */
  async latest(cellId: string, count: number): Promise<LatestMessages> {
    const { id, dir, ws } = this.session(this.cell(cellId));
    const raw = await ws.api.request<{ info: OpencodeMessageInfo; parts: AgentMessage["parts"] }[]>(
      "GET",
      `/session/${id}/message?limit=${count + 1}`,
      dir,
    );
    const earlier = raw.length > count;
    return { messages: raw.slice(earlier ? 1 : 0).map((m) => leanMessage(toMessage(m))), earlier };
  }

  /** One part of a message whole, as OpenCode keeps it: the chat's snapshot has tool calls cut short. */
  async part(cellId: string, messageId: string, partId: string): Promise<AgentPart> {
    const { id, dir, ws } = this.session(this.cell(cellId));
    const message = await ws.api.request<{ parts: AgentPart[] }>(
      "GET",
      `/session/${id}/message/${encodeURIComponent(messageId)}`,
      dir,
    );
    const part = message.parts.find((p) => p.id === partId);
    if (!part)
      throw new HiveError("NOT_FOUND", `Message '${messageId}' of cell '${cellId}' has no part '${partId}'.`);
    return part;
  }

  async snapshot(cellId: string): Promise<AgentSnapshot> {
    const cell = this.cell(cellId);
    let latest: LatestMessages = { messages: [], earlier: false };
    let model: ModelRef | null = null;
    if (cell.opencodeSessionId) {
      [latest, model] = await Promise.all([
        this.latest(cellId, SNAPSHOT_MESSAGES),
        this.model(cell).catch(() => null),
      ]);
    }
    return {
      cellId,
      sessionId: cell.opencodeSessionId,
      status: cell.agentStatus,
      detail: cell.agentStatusDetail,
      mode: this.mode(cellId),
      model,
      ...latest,
      waiting: this.inbox.list(cellId),
      activity: this.activity.forCell(cellId, SNAPSHOT_ACTIVITY),
    };
  }

  prompt(cellId: string): AssembledPrompt {
    this.cell(cellId);
    const p = this.settings.prompt(cellId);
    if (!p) throw new HiveError("NOT_FOUND", `No prompt was assembled for cell '${cellId}' yet.`);
    return { cellId, prompt: p.prompt, fragments: p.fragments, createdAt: p.createdAt };
  }

  async providers(workspaceId: string): Promise<ProviderList> {
    const workspace = this.deps.workspaces.get(workspaceId);
    return this.serverFor(workspaceId).providers(workspace.path);
  }

  waiting(): InboxItem[] {
    return this.inbox.list();
  }

  /** The command an "OpenCode TUI" terminal runs to attach to the cell's session. */
  async tuiCommand(cellId: string): Promise<TerminalCommand> {
    const { id, dir, ws } = this.session(this.cell(cellId));
    // Started if need be: the TUI waits for the pid file to say where the server listens.
    await ws.server.url();
    return tuiCommand({
      bin: opencodeBinary({ ...process.env, ...this.deps.opencodeEnv }),
      pidFile: ws.server.pidFile,
      sessionId: id,
      dir,
      password: ws.server.password,
      env: this.deps.opencodeEnv,
    });
  }

  /** Delete/archive: the run is stopped and the inbox forgets the cell; the transcript stays in OpenCode. */
  async teardown(cellId: string, workflow: "delete" | "archive"): Promise<string> {
    const cell = this.deps.cells.get(cellId);
    this.inbox.removeCell(cellId);
    if (!cell?.opencodeSessionId) return "no agent session";
    const ws = this.servers.existing(cell.workspaceId);
    if (ws?.server.state.kind === "running") await this.abort(cellId).catch(() => {});
    if (workflow === "delete") {
      for (const [session, owner] of this.sessions) if (owner === cellId) this.sessions.delete(session);
      this.busyEnded.delete(cellId);
      this.settings.delete(cellId);
    }
    this.setStatus(cellId, "none", null);
    return `agent session ${cell.opencodeSessionId} stopped`;
  }

  /** Stops every OpenCode Hive started. */
  async shutdown(): Promise<void> {
    await this.servers.stop();
  }
}
