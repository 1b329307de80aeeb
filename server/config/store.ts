import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { type ConfigIssue, DEFAULT_CONFIG, type HiveConfig, type Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { TemplatesResponse } from "../../shared/records.ts";
import { readConfigFile } from "./load.ts";

export const CONFIG_FILE = "hive.config.json";

interface State {
  config: HiveConfig;
  source: "file" | "default";
  errors: ConfigIssue[] | null;
  mtimeMs: number | null;
}

/**
 * One workspace's hive.config.json: the last good config stays in force while the file is invalid.
 * Edits are picked up by a watcher, and by an mtime check on every read in case a watch event is missed.
 */
export class ConfigStore {
  private state: State;
  private watcher: FSWatcher | undefined;
  readonly file: string;

  constructor(
    readonly workspacePath: string,
    private readonly onChange: () => void = () => {},
  ) {
    this.file = join(workspacePath, CONFIG_FILE);
    this.state = { config: DEFAULT_CONFIG, source: "default", errors: null, mtimeMs: null };
    this.reload();
  }

  /** Starts watching the file (its directory, so creation and deletion are seen too). */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(this.file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50 } });
    this.watcher.on("all", () => {
      if (this.reload()) this.onChange();
    });
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
  }

  get current(): State {
    this.refreshIfChanged();
    return this.state;
  }

  templates(workspaceId: string): TemplatesResponse {
    const s = this.current;
    return {
      workspaceId,
      templates: s.config.templates,
      defaultTemplateId: s.config.defaults.templateId ?? s.config.templates[0]?.id ?? null,
      source: s.source,
      errors: s.errors,
    };
  }

  template(id: string): Template {
    const t = this.current.config.templates.find((x) => x.id === id);
    if (!t) {
      const known = this.current.config.templates.map((x) => x.id).join(", ");
      throw new HiveError("TEMPLATE_NOT_FOUND", `No template '${id}' in ${this.file} (templates: ${known}).`);
    }
    return t;
  }

  private refreshIfChanged(): void {
    const mtime = existsSync(this.file) ? statSync(this.file).mtimeMs : null;
    if (mtime !== this.state.mtimeMs) this.reload();
  }

  /** Returns true when what is in force (or its errors) changed. */
  private reload(): boolean {
    const before = JSON.stringify([this.state.config, this.state.errors]);
    if (!existsSync(this.file)) {
      this.state = { config: DEFAULT_CONFIG, source: "default", errors: null, mtimeMs: null };
    } else {
      const mtimeMs = statSync(this.file).mtimeMs;
      const parsed = readConfigFile(this.file);
      this.state = parsed.ok
        ? { config: parsed.config, source: "file", errors: null, mtimeMs }
        : { ...this.state, errors: parsed.errors, mtimeMs };
    }
    return before !== JSON.stringify([this.state.config, this.state.errors]);
  }
}

export function formatConfigIssues(file: string, issues: ConfigIssue[]): string {
  return issues
    .map((i) => `${file}${i.line ? `:${i.line}:${i.column ?? 1}` : ""}: ${i.path}: ${i.message}`)
    .join("\n");
}
