import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
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

/** The workspace's own opencode.json(c), passed to OpenCode because worktrees live outside the repo. */
export function workspaceOpencodeConfig(repo: string): Record<string, unknown> {
  for (const name of ["opencode.json", "opencode.jsonc"]) {
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
}

export class WorkspaceServer {
  readonly server: OpencodeServer;
  readonly api: OpencodeApi;
  private readonly events = new AbortController();
  private providersCache: { at: number; value: ProviderList } | undefined;
  private reading = false;

  constructor(private readonly opts: WorkspaceServerOptions) {
    this.server = new OpencodeServer({
      cwd: opts.workspace.path,
      logFile: opts.logFile,
      pidFile: opts.pidFile,
      // OpenCode's own snapshots shadow every worktree in a second git repository: on a 20,000-file repo that
      // pegged a core for ~30 s per new cell and tripled its checkout time. Hive's branch, base commit and diff
      // already record what the agent changed; a workspace's opencode.json may still turn them back on.
      config: { snapshot: false, ...workspaceOpencodeConfig(opts.workspace.path), ...opts.extraConfig },
      env: opts.env,
      onState: (state) => {
        if (state.kind !== "running") this.providersCache = undefined;
        opts.onState(state);
        if (state.kind === "running") this.readEvents();
      },
    });
    this.api = new OpencodeApi(this.server);
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
    const raw = await this.api.request<{
      providers: { id: string; name: string; models: Record<string, { id: string; name: string }> }[];
      default: Record<string, string>;
    }>("GET", "/config/providers", directory);
    const value: ProviderList = {
      providers: raw.providers.map((p) => ({
        id: p.id,
        name: p.name,
        models: Object.values(p.models).map((m) => ({ id: m.id, name: m.name })),
      })),
      defaults: raw.default ?? {},
    };
    this.providersCache = { at: Date.now(), value };
    return value;
  }

  async stop(): Promise<void> {
    this.events.abort();
    await this.server.stop();
  }
}
