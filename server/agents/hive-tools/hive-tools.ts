import { randomBytes, timingSafeEqual } from "node:crypto";
import { copyFileSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AgentActivity, HiveTool } from "../../../shared/agents.ts";
import { HiveError } from "../../../shared/errors.ts";
import type { Cell, Workspace } from "../../../shared/records.ts";
import type { EventBus } from "../../events/bus.ts";
import type { AgentActivityRepo } from "../agent-repo.ts";
import { runTool, type ToolServices } from "./tool-calls.ts";

/**
 * Hive's tools for the agent. One OpenCode serves every cell of a workspace, so the tools cannot be
 * configured per cell: OpenCode loads them from a config directory Hive owns (OPENCODE_CONFIG_DIR,
 * never the user's config or the worktree) and tells each call the directory and session it runs for.
 * The tool forwards that to Hive over loopback with a per-workspace token only that OpenCode holds;
 * Hive answers only for a live cell of that workspace whose worktree is that directory, and records
 * every call in the cell's activity.
 */

const TOOL_SOURCE = join(import.meta.dirname, "opencode-tool.js");

export interface HiveToolsDeps {
  /** `<home>/run`: each workspace's OpenCode config directory goes under it. */
  runDir: string;
  cells: { list(workspaceId: string): Cell[] };
  services: ToolServices;
  setupLogFile(cellId: string): string;
  activity: AgentActivityRepo;
  bus: EventBus;
  /** The cell an OpenCode session belongs to, when Hive knows the session. */
  sessionCell(sessionId: string): string | undefined;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Tells OpenCode that an OpenCode config directory already has its npm dependencies: OpenCode skips
 * its install when `node_modules` exists and the lock file lists every package it would add.
 */
export function markPluginInstalled(dir: string): void {
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({ packages: { "": { dependencies: { "@opencode-ai/plugin": "*" } } } }),
  );
}

export class HiveTools {
  /** Workspace id → the token its OpenCode calls with; new at every Hive start, as OpenCode is. */
  private readonly tokens = new Map<string, string>();
  /** Workspace id → its OpenCode config directory. */
  private readonly dirs = new Map<string, string>();
  private url: string | undefined;

  constructor(private readonly deps: HiveToolsDeps) {}

  /**
   * The OPENCODE_CONFIG_DIR of a workspace's OpenCode: the tool file, the credentials once Hive
   * listens, and a note that the directory's npm dependencies are installed. OpenCode would otherwise
   * npm-install @opencode-ai/plugin into it before offering any tool; Hive's tool imports nothing, and
   * offline that install fails only after holding back the first prompt.
   */
  configDir(workspace: Workspace): string {
    const dir = join(this.deps.runDir, "agent-tools", workspace.slug);
    mkdirSync(join(dir, "tools"), { recursive: true });
    copyFileSync(TOOL_SOURCE, join(dir, "tools", "hive.js"));
    markPluginInstalled(dir);
    this.dirs.set(workspace.id, dir);
    this.writeCredentials(workspace.id);
    return dir;
  }

  /** A workspace was removed (its OpenCode stopped): its token no longer answers, its directory goes. */
  forget(workspaceId: string): void {
    const dir = this.dirs.get(workspaceId);
    this.dirs.delete(workspaceId);
    this.tokens.delete(workspaceId);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }

  /** Hive's address is known only once it listens, and OpenCode may already run (recovery): tell every directory. */
  listening(url: string): void {
    // A wildcard listen address is not one to call; loopback reaches it.
    this.url = url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:");
    for (const workspaceId of this.dirs.keys()) this.writeCredentials(workspaceId);
  }

  private writeCredentials(workspaceId: string): void {
    const dir = this.dirs.get(workspaceId);
    if (!dir || !this.url) return;
    let token = this.tokens.get(workspaceId);
    if (!token) {
      token = randomBytes(32).toString("base64url");
      this.tokens.set(workspaceId, token);
    }
    // Readable by OpenCode (and, being the same user, by the agent's shell commands): the token keeps out
    // other local programs and web pages, not the agents. Cells are not a security boundary from each
    // other; an agent's shell can reach another worktree anyway.
    writeFileSync(join(dir, "hive-tools.json"), JSON.stringify({ url: this.url, token }), { mode: 0o600 });
  }

  /** The workspace whose OpenCode holds this token; UNAUTHORIZED for any other. */
  workspaceOf(token: string): string {
    const given = Buffer.from(token);
    for (const [workspaceId, known] of this.tokens) {
      const want = Buffer.from(known);
      if (given.length === want.length && timingSafeEqual(given, want)) return workspaceId;
    }
    throw new HiveError("UNAUTHORIZED", "Hive's agent tools answer only to the OpenCode Hive started.");
  }

  /** The cell whose agent calls: the directory OpenCode runs the tool for must be one of the workspace's live worktrees. */
  caller(workspaceId: string, directory: string, sessionId: string): Cell {
    const dir = canonical(directory);
    const cell = this.deps.cells
      .list(workspaceId)
      .find(
        (c) =>
          c.worktreePath !== null &&
          c.status !== "archived" &&
          c.status !== "deleting" &&
          canonical(c.worktreePath) === dir,
      );
    if (!cell) {
      throw new HiveError(
        "FORBIDDEN",
        `'${directory}' is not the worktree of a live cell of this workspace; Hive's tools answer only for a cell's own agent.`,
      );
    }
    // A session Hive does not know is taken at its directory's word.
    const owner = this.deps.sessionCell(sessionId);
    if (owner !== undefined && owner !== cell.id) {
      throw new HiveError("FORBIDDEN", `Session '${sessionId}' belongs to another cell than '${directory}'.`);
    }
    return cell;
  }

  /** Runs one tool for the calling cell; the call, its outcome and a summary go to the cell's activity. */
  async call(
    workspaceId: string,
    tool: HiveTool,
    call: { directory: string; sessionId: string; args: Record<string, unknown> },
  ): Promise<{ output: string; activity: AgentActivity }> {
    const cell = this.caller(workspaceId, call.directory, call.sessionId);
    const target = {
      cellId: cell.id,
      setupLog: this.deps.setupLogFile(cell.id),
      services: this.deps.services,
    };
    try {
      const { output, summary } = await runTool(tool, call.args, target);
      return { output, activity: this.record(cell.id, tool, call.args, true, summary) };
    } catch (e) {
      this.record(cell.id, tool, call.args, false, (e as Error).message);
      throw e;
    }
  }

  private record(
    cellId: string,
    tool: HiveTool,
    input: unknown,
    ok: boolean,
    summary: string,
  ): AgentActivity {
    const activity = this.deps.activity.record(cellId, `hive_${tool}`, input, ok, summary);
    this.deps.bus.emit("agent.event", { cellId, event: { type: "activity", activity } });
    return activity;
  }
}
