import type { TerminalInfo, TerminalKind } from "../../shared/terminals.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";
import { TerminalSession } from "../terminal-session.ts";
import type { CellStore } from "./cell.ts";
import { LayoutStore } from "./layout.ts";

export interface TerminalTab {
  termId: string;
  name: string;
  info: TerminalInfo;
  session: TerminalSession;
}

/**
 * A cell's terminal tabs. Which shells exist and their names come from the server (the cell channel lists
 * them, and they outlive the page; a rename shows in every browser); which one is in front is remembered
 * with the cell's layout in this browser.
 */
export class TerminalsStore {
  readonly tabs = new Store<TerminalTab[]>([]);
  readonly active = new Store<string | null>(null);
  readonly error = new Store<string | undefined>(undefined);
  readonly layout: LayoutStore;
  private readonly sessions = new Map<string, TerminalSession>();
  /** Names given to shells not listed yet (still opening): two quick opens must not both be "shell 3". */
  private readonly opening = new Set<string>();
  private readonly off: () => void;

  constructor(
    private readonly socket: HiveSocket,
    cell: CellStore,
  ) {
    this.layout = new LayoutStore(cell.cellId);
    this.active.set(this.layout.layout.value.activeTermId);
    this.off = cell.detail.subscribe((d) => this.sync(d.terminals));
    this.sync(cell.detail.value.terminals);
  }

  get cellId(): string {
    return this.layout.cellId;
  }

  /** Opens a shell, or OpenCode's TUI on the cell's session (the server names that one). */
  async open(kind: TerminalKind = "shell", cols = 80, rows = 24): Promise<string | undefined> {
    const name = kind === "shell" ? this.nextName() : undefined;
    if (name) this.opening.add(name);
    try {
      const termId = await TerminalSession.open(this.socket, this.cellId, cols, rows, name, kind);
      this.error.set(undefined);
      this.select(termId);
      return termId;
    } catch (err) {
      if (name) this.opening.delete(name);
      this.error.set(`Could not open a terminal: ${(err as Error).message}`);
      return undefined;
    }
  }

  select(termId: string): void {
    this.active.set(termId);
    this.layout.update((l) => ({ ...l, activeTermId: termId }));
  }

  /** Names the terminal for every browser: Hive keeps the name, and the cell channel brings it back. */
  rename(termId: string, name: string): void {
    const clean = name
      .replace(/\p{Cc}+/gu, " ")
      .trim()
      .slice(0, 80);
    if (!clean) return;
    if (!this.socket.send({ type: "term.rename", termId, name: clean })) {
      this.error.set("Not connected to Hive: the new name was not saved. Rename it again once reconnected.");
      return;
    }
    this.error.set(undefined);
    this.tabs.set(this.tabs.value.map((t) => (t.termId === termId ? { ...t, name: clean } : t)));
  }

  /**
   * Ends the shell; its tab goes when the server says it closed. Answers what keeps a shell that runs a
   * program open (ask the person, then close with `force`).
   */
  async close(termId: string, force = false): Promise<{ busy: string } | undefined> {
    try {
      const answer = await this.sessions.get(termId)?.close(force);
      this.error.set(undefined);
      return answer;
    } catch (err) {
      this.error.set(`The terminal was not closed: ${(err as Error).message}`);
      return undefined;
    }
  }

  dispose(): void {
    this.off();
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }

  /** The tab in front: the chosen one, or the newest when the chosen one is gone (or not listed yet). */
  get front(): string | null {
    const tabs = this.tabs.value;
    const chosen = this.active.value;
    return tabs.some((t) => t.termId === chosen) ? chosen : (tabs.at(-1)?.termId ?? null);
  }

  private sync(terminals: TerminalInfo[]): void {
    const ids = new Set(terminals.map((t) => t.termId));
    for (const [id, s] of this.sessions) {
      if (ids.has(id)) continue;
      s.dispose();
      this.sessions.delete(id);
    }
    for (const t of terminals) this.opening.delete(t.name);
    const tabs = terminals.map((info) => ({
      termId: info.termId,
      name: info.name,
      info,
      session: this.sessionOf(info.termId),
    }));
    const same =
      tabs.length === this.tabs.value.length &&
      tabs.every((t, i) => t.termId === this.tabs.value[i]?.termId && t.info === this.tabs.value[i]?.info);
    if (!same) this.tabs.set(tabs);
  }

  private sessionOf(termId: string): TerminalSession {
    let s = this.sessions.get(termId);
    if (!s) {
      s = new TerminalSession(this.socket, termId);
      this.sessions.set(termId, s);
    }
    return s;
  }

  private nextName(): string {
    const used = new Set([...this.tabs.value.map((t) => t.name), ...this.opening]);
    for (let n = 1; ; n++) if (!used.has(`shell ${n}`)) return `shell ${n}`;
  }
}
