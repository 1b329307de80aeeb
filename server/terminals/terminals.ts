import { HiveError } from "../../shared/errors.ts";
import { NOTHING_KNOWN, type RestState } from "../../shared/rest-tracker.ts";
import type { TerminalInfo, TerminalKind, TermSnapshot } from "../../shared/terminals.ts";
import type { EventBus } from "../events/bus.ts";
import type { HomeLayout } from "../home/home.ts";
import { hostBuild } from "./host/build.ts";
import type { HostMessage, HostSnapshot } from "./host/messages.ts";
import type { DataMessage } from "./host/wire.ts";
import { PtyHostClient, stopPtyHost } from "./host-client.ts";
import { type StreamPoint, type Subscriber, TermFlow, type TermSink } from "./term-flow.ts";
import type { TerminalTitles } from "./titles.ts";

/**
 * The terminals of every cell, as the web server sees them: a facade over the PTY host (which owns
 * the shells and screens) that fans output out to subscribers with flow control. Survives a restart
 * of the web server: on start it reconnects to the host and lists the terminals still running.
 */

export const DEFAULT_SCROLLBACK_LINES = 10_000;

export interface TerminalLaunch {
  cwd: string;
  /** The shell's whole environment (Hive's own, the template's, the contributors'). */
  env: Record<string, string>;
}

/** A program a terminal runs instead of the shell; it still starts in the cell's worktree with its environment. */
export interface TerminalCommand {
  file: string;
  args: string[];
  /** Added to the cell's environment (e.g. a password that must not go in argv). */
  env: Record<string, string>;
}

export interface TerminalsOptions {
  layout: HomeLayout;
  bus: EventBus;
  /** Where a cell's shells start and with what environment; throws a HiveError for an unusable cell. */
  launch(cellId: string): TerminalLaunch;
  /** Default: the user's login shell ($SHELL or /bin/bash, with -l). */
  shell?: string;
  shellArgs?: string[];
  scrollbackLines?: number;
  /** Names people gave terminals; without it a rename lasts until Hive restarts. */
  titles?: TerminalTitles;
  /** The other kinds' programs, by the rooms that know them (the agents room: "opencode-tui"). */
  commands?: Partial<Record<Exclude<TerminalKind, "shell">, (cellId: string) => Promise<TerminalCommand>>>;
}

const KIND_NAMES: Record<Exclude<TerminalKind, "shell">, string> = { "opencode-tui": "OpenCode TUI" };

interface Live {
  info: TerminalInfo;
  flow: TermFlow;
}

export class Terminals {
  private host: PtyHostClient | undefined;
  private connecting: Promise<PtyHostClient> | undefined;
  private readonly byId = new Map<string, Live>();
  private readonly byNum = new Map<number, Live>();
  private stopped = false;
  /** The host runs another build of Hive: it is replaced once it holds no shell (see replaceIfOutdated). */
  private outdated = false;
  /** An outdated host being ended: the next terminal waits for it, then starts a host of this build. */
  private replacing: Promise<void> | undefined;

  constructor(private readonly options: TerminalsOptions) {}

  /**
   * Picks up the terminals a running PTY host still holds (after a restart of the web server). A host
   * is only started when the first terminal opens.
   */
  async start(): Promise<void> {
    if (!(await PtyHostClient.isRunning(this.options.layout))) {
      this.options.titles?.retain([]); // no host: every terminal named before is gone
      return;
    }
    await this.replaceIfOutdated(await this.connection());
  }

  /**
   * A host started by another build of Hive (it outlives upgrades) is ended while it holds no shell, so the
   * next terminal runs the code as it is now. One that holds shells keeps them until the last is closed.
   */
  private async replaceIfOutdated(host: PtyHostClient): Promise<void> {
    const build = await host.request<string | null>({ t: "build" });
    if (build === hostBuild()) return;
    const shells = this.byId.size;
    if (shells === 0) {
      await stopPtyHost(this.options.layout.root);
      return;
    }
    this.outdated = true;
    console.warn(
      `hive: the terminal host of ${this.options.layout.root} was started by another build of Hive and keeps ` +
        `${shells} shell(s) running; it serves them as before, and once they are closed the next terminal ` +
        "starts with this build.",
    );
  }

  /** Disconnects from the PTY host; the shells keep running there. */
  stop(): void {
    this.stopped = true;
    this.host?.close();
  }

  list(cellId?: string): TerminalInfo[] {
    return [...this.byId.values()]
      .map((l) => l.info)
      .filter((i) => cellId === undefined || i.cellId === cellId);
  }

  get(termId: string): TerminalInfo {
    return this.live(termId).info;
  }

  async open(req: {
    cellId: string;
    name?: string;
    cols: number;
    rows: number;
    kind?: TerminalKind;
  }): Promise<TerminalInfo> {
    const launch = this.options.launch(req.cellId);
    const command = await this.command(req.cellId, req.kind ?? "shell");
    const host = await this.connection();
    const count = this.list(req.cellId).length;
    const info = await host.request<TerminalInfo>({
      t: "open",
      spec: {
        cellId: req.cellId,
        name: req.name ?? (req.kind && req.kind !== "shell" ? KIND_NAMES[req.kind] : `shell ${count + 1}`),
        cwd: launch.cwd,
        env: {
          ...launch.env,
          ...command?.env,
          TERM: "xterm-256color",
          COLORTERM: "truecolor",
          HIVE_CELL_ID: req.cellId,
          HIVE_WORKTREE: launch.cwd,
        },
        cols: req.cols,
        rows: req.rows,
        shell: command?.file ?? this.options.shell ?? process.env.SHELL ?? "/bin/bash",
        args: command?.args ?? this.options.shellArgs ?? ["-l"],
        scrollbackLines: this.options.scrollbackLines ?? DEFAULT_SCROLLBACK_LINES,
      },
    });
    return this.track(info).info;
  }

  /** The program of a terminal that is not a shell (undefined for a shell). */
  private async command(cellId: string, kind: TerminalKind): Promise<TerminalCommand | undefined> {
    if (kind === "shell") return undefined;
    const make = this.options.commands?.[kind];
    if (!make)
      throw new HiveError("UNAVAILABLE", `${KIND_NAMES[kind]} terminals are not available in this Hive.`);
    return make(cellId);
  }

  input(termId: string, data: string): void {
    const l = this.running(termId);
    this.host?.notify({ t: "input", num: l.info.numericId, data });
  }

  /** Renames a terminal for everyone watching its cell (the name is kept across restarts of Hive). */
  rename(termId: string, name: string): TerminalInfo {
    const l = this.live(termId);
    const title = name.trim().slice(0, 80);
    if (!title) throw new HiveError("BAD_REQUEST", "A terminal's name cannot be empty.", { termId });
    this.options.titles?.set(termId, l.info.cellId, title);
    l.info.name = title;
    this.options.bus.emit("terminal.updated", { terminal: l.info, change: "renamed" });
    return l.info;
  }

  resize(termId: string, cols: number, rows: number): void {
    const l = this.running(termId);
    this.host?.notify({ t: "resize", num: l.info.numericId, cols, rows });
  }

  /**
   * Ends a shell. Unless `force`, refused (TERMINAL_BUSY) while it runs a program in the foreground or
   * a job in the background: one click on a tab's × must not end a build, a server or an editor with
   * unsaved work.
   */
  async close(termId: string, opts: { force?: boolean } = {}): Promise<void> {
    const l = this.live(termId);
    if (!opts.force) {
      // A PTY host started by an older Hive does not know the question: it answers null.
      const busy = await this.host?.request<{ program: string; background: boolean } | null>({
        t: "foreground",
        num: l.info.numericId,
      });
      if (busy?.program)
        throw new HiveError(
          "TERMINAL_BUSY",
          `${l.info.name} is running ${busy.program}${busy.background ? " in the background" : ""}; closing it ends ${busy.program}.`,
          { termId, ...busy },
        );
    }
    await this.host?.request({ t: "close", num: l.info.numericId });
  }

  /** Ends every shell of a cell (it is being deleted or archived); answers how many there were. */
  async closeCell(cellId: string): Promise<number> {
    if (this.list(cellId).length === 0) return 0;
    const host = await this.connection();
    return host.request<number>({ t: "closeCell", cellId });
  }

  /**
   * Subscribes a sink to a terminal's output. Resolves with the current screen; output after it is
   * held until `subscriber.start(at)` (call it once the snapshot has been sent on).
   */
  async attach(
    termId: string,
    sink: TermSink,
  ): Promise<{ snapshot: TermSnapshot; at: StreamPoint; subscriber: Subscriber }> {
    const l = this.live(termId);
    const subscriber = l.flow.add(sink);
    try {
      const { offset, rest, ...snapshot } = await this.snapshot(l);
      return { snapshot, at: { offset, rest, rows: snapshot.rows }, subscriber };
    } catch (err) {
      subscriber.detach();
      throw err;
    }
  }

  private async snapshot(l: Live): Promise<TermSnapshot & { offset: number; rest: RestState }> {
    const host = await this.connection();
    const snap = await host.request<HostSnapshot>({ t: "snapshot", num: l.info.numericId });
    return { ...l.info, screen: snap.screen, offset: snap.offset, rest: snap.rest ?? NOTHING_KNOWN };
  }

  private live(termId: string): Live {
    const l = this.byId.get(termId);
    if (!l)
      throw new HiveError("NOT_FOUND", `no terminal '${termId}' (it was closed, or its cell was deleted)`);
    return l;
  }

  private running(termId: string): Live {
    const l = this.live(termId);
    if (l.info.exitCode !== null || l.info.signal !== null) {
      throw new HiveError(
        "TERMINAL_CLOSED",
        `terminal '${termId}' has exited (code ${l.info.exitCode}); open a new one`,
      );
    }
    return l;
  }

  private track(info: TerminalInfo): Live {
    const existing = this.byNum.get(info.numericId);
    if (existing) return existing;
    const num = info.numericId;
    info.name = this.options.titles?.get(info.termId) ?? info.name;
    const l: Live = {
      info,
      flow: new TermFlow({
        watch: (on) => this.host?.notify({ t: "watch", num, on }),
        pause: () => this.host?.notify({ t: "pause", num }),
        resume: () => this.host?.notify({ t: "resume", num }),
        snapshot: () => this.snapshot(l),
      }),
    };
    this.byId.set(info.termId, l);
    this.byNum.set(num, l);
    this.options.bus.emit("terminal.opened", { terminal: info });
    return l;
  }

  private connection(): Promise<PtyHostClient> {
    if (this.replacing) return this.replacing.then(() => this.connection());
    if (this.host && !this.host.isClosed) return Promise.resolve(this.host);
    if (this.stopped) return Promise.reject(new HiveError("UNAVAILABLE", "terminals are stopped"));
    this.connecting ??= PtyHostClient.connect(this.options.layout, {
      data: (msg) => this.onData(msg),
      message: (msg) => this.onHostMessage(msg),
      close: () => this.onHostGone(),
    })
      .then(async (host) => {
        this.host = host;
        const infos = await host.request<TerminalInfo[]>({ t: "list" });
        for (const info of infos) this.track(info);
        this.options.titles?.retain(infos.map((i) => i.termId));
        return host;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private onData(msg: DataMessage): void {
    this.byNum.get(msg.num)?.flow.data(msg);
  }

  private onHostMessage(msg: Exclude<HostMessage, { t: "res" }>): void {
    const l = this.byNum.get(msg.num);
    if (!l) return;
    if (msg.t === "closed") {
      this.forget(l);
      return;
    }
    if (msg.t === "exit") {
      l.info.exitCode = msg.exitCode;
      l.info.signal = msg.signal;
    } else {
      l.info.cols = msg.cols;
      l.info.rows = msg.rows;
      l.flow.resized(msg.rows);
    }
    this.options.bus.emit("terminal.updated", {
      terminal: l.info,
      change: msg.t === "exit" ? "exit" : "resized",
    });
  }

  private forget(l: Live): void {
    this.byId.delete(l.info.termId);
    this.byNum.delete(l.info.numericId);
    this.options.titles?.delete(l.info.termId);
    this.options.bus.emit("terminal.closed", { terminal: l.info });
    if (this.outdated && this.byId.size === 0 && this.host) {
      this.outdated = false;
      this.replacing = stopPtyHost(this.options.layout.root).finally(() => {
        this.replacing = undefined;
      });
    }
  }

  /** The host died (or was stopped): its shells are gone with it. */
  private onHostGone(): void {
    this.host = undefined;
    if (this.stopped) return;
    for (const l of [...this.byId.values()]) this.forget(l);
  }
}
