import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { type ParseError, parse, printParseErrorCode } from "jsonc-parser";
import type { ProviderList } from "../../shared/agents.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Workspace } from "../../shared/records.ts";
import { OpencodeApi, type OpencodeEvent } from "./opencode-api.ts";
import { OpencodeServer, type ServerState } from "./opencode-server.ts";

/**
 * The OpenCode of one workspace: one `opencode serve` serving every cell's worktree of that workspace
 * (OpenCode scopes each request to a directory), its event stream, and a short-lived cache of its
 * providers. One per workspace rather than one per cell: a server costs ~2.5 s and ~200 MB to start,
 * a session in a running one ~50 ms, and the workspace's opencode.json applies to all its cells alike.
 */

const PROVIDERS_TTL_MS = 30_000;
const EVENT_RETRY_MS = 500;
const CONFIG_FILES = ["opencode.json", "opencode.jsonc"];

/** The workspace's own opencode.json(c), passed to OpenCode because worktrees live outside the repo. */
export function workspaceOpencodeConfig(repo: string): Record<string, unknown> {
  for (const name of CONFIG_FILES) {
    const file = join(repo, name);
    if (!existsSync(file)) continue;
    const errors: ParseError[] = [];
    const value = parse(readFileSync(file, "utf8"), errors, { allowTrailingComma: true }) as unknown;
    if (errors.length > 0 || typeof value !== "object" || value === null) {
      const e = errors[0];
      throw new HiveError(
        "CONFIG_INVALID",
        `${file} is not valid JSON${e ? ` (${printParseErrorCode(e.error)} at offset ${e.offset})` : ""}; fix it so OpenCode can start.`,
      );
    }
    return value as Record<string, unknown>;
  }
  return {};
}

/** A config as JSON, minus its `$schema` line: adding one (an editor may) changes nothing OpenCode runs with. */
function comparable(config: Record<string, unknown>): string {
  return JSON.stringify({ ...config, $schema: undefined });
}

export interface WorkspaceServerOptions {
  workspace: Workspace;
  logFile: string;
  pidFile: string;
  /** Merged over the workspace's opencode.json (Hive's tools). */
  extraConfig: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  onState(state: ServerState): void;
  onEvent(event: OpencodeEvent): void;
  /** The event stream (re)connected: anything missed while it was down must be re-read. */
  onEventsOpen(): void;
  /** Whether an agent of the workspace is mid-run (a restart would cut it off). */
  busy(): boolean;
  /** What became of a change to opencode.json. */
  onConfigChange(change: ConfigChange): void;
}

/**
 * `waiting`: a run is under way, the restart follows once every agent of the workspace is idle (see
 * applyPendingConfig); `restarting`: OpenCode is being restarted with it; `invalid`: the file cannot
 * be read, the previous config stays in force; `current`: the file says what OpenCode runs with (again).
 */
export type ConfigChange =
  | { kind: "waiting" }
  | { kind: "restarting" }
  | { kind: "invalid"; message: string }
  | { kind: "current" };

export class WorkspaceServer {
  readonly server: OpencodeServer;
  readonly api: OpencodeApi;
  private readonly events = new AbortController();
  private providersCache: { at: number; value: ProviderList } | undefined;
  /** Bumped at every change of the server's state: an answer from before a restart is not cached. */
  private generation = 0;
  private reading = false;
  private readonly watcher: FSWatcher;
  /** The config OpenCode runs with, as JSON, and a changed one waiting for the agents to be idle. */
  private configJson: string;
  private pendingConfig: Record<string, unknown> | undefined;
  private restarting: Promise<void> | undefined;

  constructor(private readonly opts: WorkspaceServerOptions) {
    const config = this.readConfig();
    this.configJson = comparable(config);
    this.server = new OpencodeServer({
      cwd: opts.workspace.path,
      logFile: opts.logFile,
      pidFile: opts.pidFile,
      config,
      env: opts.env,
      onState: (state) => {
        this.generation++;
        if (state.kind !== "running") this.providersCache = undefined;
        opts.onState(state);
        if (state.kind === "running") this.readEvents();
      },
    });
    this.api = new OpencodeApi(this.server);
    this.watcher = watch(
      CONFIG_FILES.map((f) => join(opts.workspace.path, f)),
      { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50 } },
    );
    this.watcher.on("all", () => this.configFileChanged());
  }

  private readConfig(): Record<string, unknown> {
    // OpenCode's own snapshots shadow every worktree in a second git repository: on a 20,000-file repo that
    // pegged a core for ~30 s per new cell and tripled its checkout time. Hive's branch, base commit and diff
    // already record what the agent changed; a workspace's opencode.json may still turn them back on.
    return {
      snapshot: false,
      ...workspaceOpencodeConfig(this.opts.workspace.path),
      ...this.opts.extraConfig,
    };
  }

  /** OpenCode reads its model and provider settings only at start: a changed opencode.json takes a restart. */
  private configFileChanged(): void {
    let config: Record<string, unknown>;
    try {
      config = this.readConfig();
    } catch (e) {
      this.opts.onConfigChange({ kind: "invalid", message: (e as Error).message });
      return;
    }
    this.pendingConfig = comparable(config) === this.configJson ? undefined : config;
    if (this.pendingConfig) this.applyPendingConfig();
    else this.opts.onConfigChange({ kind: "current" });
  }

  /**
   * Restarts OpenCode with a changed config, unless an agent is mid-run: then the workspace is told, and
   * this is called again as agents turn idle. Sessions live in OpenCode's store and survive the restart.
   */
  applyPendingConfig(): void {
    const config = this.pendingConfig;
    if (!config || this.restarting) return;
    if (this.server.state.kind !== "stopped" && this.opts.busy()) {
      this.opts.onConfigChange({ kind: "waiting" });
      return;
    }
    this.pendingConfig = undefined;
    this.configJson = comparable(config);
    const running = this.server.state.kind !== "stopped";
    // The old server answers until it has exited: nothing it says about providers is kept.
    this.providersCache = undefined;
    this.generation++;
    this.restarting = this.server
      .reconfigure(config)
      .catch(() => {}) // a failed start is reported through onState and retried by the server
      .finally(() => {
        this.restarting = undefined;
        this.applyPendingConfig();
      });
    if (running) this.opts.onConfigChange({ kind: "restarting" });
  }

  /** Keeps one reader on the event stream while the server runs; a dropped stream is reopened. */
  private readEvents(): void {
    if (this.reading || this.events.signal.aborted) return;
    this.reading = true;
    void this.api
      .readEvents(this.events.signal, this.opts.onEvent, this.opts.onEventsOpen)
      .catch(() => {})
      .finally(() => {
        this.reading = false;
        if (this.events.signal.aborted || this.server.state.kind !== "running") return;
        setTimeout(() => this.readEvents(), EVENT_RETRY_MS).unref();
      });
  }

  async providers(directory: string): Promise<ProviderList> {
    if (this.providersCache && Date.now() - this.providersCache.at < PROVIDERS_TTL_MS)
      return this.providersCache.value;
    const generation = this.generation;
    const [raw, config] = await Promise.all([
      this.api.request<{
        providers: { id: string; name: string; models: Record<string, { id: string; name: string }> }[];
        default: Record<string, string>;
      }>("GET", "/config/providers", directory),
      this.api.request<{ model?: string }>("GET", "/config", directory),
    ]);
    const slash = config.model?.indexOf("/") ?? -1;
    const value: ProviderList = {
      providers: raw.providers.map((p) => ({
        id: p.id,
        name: p.name,
        models: Object.values(p.models).map((m) => ({ id: m.id, name: m.name })),
      })),
      defaults: raw.default ?? {},
      configured:
        slash > 0
          ? { providerId: config.model!.slice(0, slash), modelId: config.model!.slice(slash + 1) }
          : null,
    };
    if (generation === this.generation) this.providersCache = { at: Date.now(), value };
    return value;
  }

  async stop(): Promise<void> {
    this.pendingConfig = undefined;
    await this.watcher.close();
    await this.restarting;
    this.events.abort();
    await this.server.stop();
  }
}
