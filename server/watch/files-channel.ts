import type { DiffFile, DiffSummary, FilesEvent, FilesSnapshot } from "../../shared/diffs.ts";
import type { DiffService } from "../diffs/diffs.ts";
import type { EventBus } from "../events/bus.ts";
import { type WatchBatch, type WatchOptions, WorktreeWatcher } from "./worktree-watcher.ts";

/** Paths named in one event; the changed diff entries carry the rest. */
const MAX_EVENT_PATHS = 200;

interface Watched {
  subscribers: number;
  watcher: Promise<WorktreeWatcher>;
  summary: DiffSummary | null;
  error: string | null;
  /** A recompute is running; `again` asks for one more after it (changes arrived meanwhile). */
  running: Promise<void> | null;
  again: boolean;
  /** The next run must diff everything: the written paths are not fully known. */
  full: boolean;
  paths: Set<string>;
}

const sameEntry = (a: DiffFile, b: DiffFile) =>
  a.status === b.status &&
  a.additions === b.additions &&
  a.deletions === b.deletions &&
  a.newSize === b.newSize &&
  a.oldPath === b.oldPath &&
  a.newMode === b.newMode &&
  a.oldMode === b.oldMode &&
  a.collapsed === b.collapsed &&
  a.viewed === b.viewed;

/**
 * What changed between two summaries of the same cell: entries that differ, or whose file was written
 * (same counts can still be new content). Unchanged files are not sent again.
 */
export function summaryDelta(
  prev: DiffSummary | null,
  next: DiffSummary,
  paths: string[],
): FilesEvent | null {
  const before = new Map((prev?.files ?? []).map((f) => [f.path, f]));
  const written = new Set(paths);
  const changed = next.files.filter((f) => {
    const old = before.get(f.path);
    before.delete(f.path);
    return !old || !sameEntry(old, f) || written.has(f.path);
  });
  const removed = [...before.keys()];
  const sameCommits = prev?.commits[0]?.sha === next.commits[0]?.sha;
  if (prev && changed.length === 0 && removed.length === 0 && sameCommits) return null;
  return {
    type: "diff.changed",
    paths: paths.slice(0, MAX_EVENT_PATHS),
    changed,
    removed,
    totals: next.totals,
    commits: next.commits,
  };
}

export interface FilesChannelDeps {
  diffs: DiffService;
  /** Changes go out as `files.changed` events, which the socket hub forwards to `files:<cellId>`. */
  bus: EventBus;
  watch?: Pick<WatchOptions, "backend" | "pollMs" | "subscribe">;
}

/**
 * The `files:<cellId>` channel: a worktree watcher per cell that someone is looking at, and the cell's
 * diff summary (against its base) recomputed after each batch of changes. Watchers stop with their
 * last subscriber, and when the cell is archived or removed.
 */
export class FilesChannel {
  private readonly cells = new Map<string, Watched>();
  private readonly offBus: (() => void)[];

  constructor(private readonly deps: FilesChannelDeps) {
    this.offBus = [
      deps.bus.on("cell.removed", ({ cellId }) => void this.drop(cellId)),
      deps.bus.on("cell.updated", ({ cell }) => {
        if (cell.status === "archived" || cell.status === "deleting") void this.drop(cell.id);
      }),
    ];
  }

  /** A subscriber arrived: watch the cell (if not yet) and return the current state. */
  async subscribe(cellId: string): Promise<FilesSnapshot> {
    let w = this.cells.get(cellId);
    if (!w) {
      const worktree = this.deps.diffs.cell(cellId).worktreePath;
      const entry: Watched = {
        subscribers: 0,
        summary: null,
        error: null,
        running: null,
        again: false,
        full: false,
        paths: new Set(),
        watcher: WorktreeWatcher.start(worktree, {
          ...this.deps.watch,
          onBatch: (batch) => this.onBatch(cellId, batch),
          onError: (e) => {
            entry.error = e.message;
          },
        }),
      };
      w = entry;
      this.cells.set(cellId, w);
      w.watcher.catch(() => {
        if (this.cells.get(cellId) === entry) this.cells.delete(cellId);
      });
    }
    w.subscribers++;
    const watcher = await w.watcher;
    if (!w.summary) await this.recompute(cellId, w, false);
    return this.snapshotOf(w, watcher);
  }

  /** Current state without subscribing (a resync after a missed event). */
  async snapshot(cellId: string): Promise<FilesSnapshot> {
    const w = this.cells.get(cellId);
    if (!w)
      return {
        watch: { mode: "events", reason: null },
        summary: await this.deps.diffs.summary(cellId),
        error: null,
      };
    return this.snapshotOf(w, await w.watcher);
  }

  private snapshotOf(w: Watched, watcher: WorktreeWatcher): FilesSnapshot {
    return { watch: { mode: watcher.mode, reason: watcher.reason }, summary: w.summary, error: w.error };
  }

  /** A subscriber left; the last one out stops the watcher. */
  async unsubscribe(cellId: string): Promise<void> {
    const w = this.cells.get(cellId);
    if (!w) return;
    w.subscribers--;
    if (w.subscribers <= 0) await this.drop(cellId);
  }

  /** Cells watched right now (for tests and the status page). */
  watching(): string[] {
    return [...this.cells.keys()];
  }

  async drop(cellId: string): Promise<void> {
    const w = this.cells.get(cellId);
    if (!w) return;
    this.cells.delete(cellId);
    await (await w.watcher.catch(() => undefined))?.stop();
  }

  private onBatch(cellId: string, batch: WatchBatch): void {
    const w = this.cells.get(cellId);
    if (!w) return;
    for (const p of batch.paths) w.paths.add(p);
    if (batch.truncated) w.full = true;
    void this.recompute(cellId, w, true);
  }

  /** Recomputes the summary; batches arriving meanwhile fold into one more run, never a queue. */
  private recompute(cellId: string, w: Watched, publish: boolean): Promise<void> {
    if (w.running) {
      w.again = true;
      return w.running;
    }
    w.running = (async () => {
      do {
        w.again = false;
        const paths = [...w.paths];
        // No paths asks refresh for the whole diff: after a truncated batch or a failed run.
        const written = w.full ? [] : paths;
        w.full = false;
        w.paths.clear();
        try {
          const next = w.summary
            ? await this.deps.diffs.refresh(w.summary, written)
            : await this.deps.diffs.summary(cellId);
          const delta = summaryDelta(w.summary, next, paths);
          w.summary = next;
          w.error = null;
          if (publish && delta && this.cells.get(cellId) === w)
            this.deps.bus.emit("files.changed", { cellId, event: delta });
        } catch (e) {
          w.error = (e as Error).message;
          w.full = true;
        }
      } while (w.again && this.cells.get(cellId) === w);
      w.running = null;
    })();
    return w.running;
  }

  async close(): Promise<void> {
    for (const off of this.offBus) off();
    await Promise.all([...this.cells.keys()].map((id) => this.drop(id)));
  }
}
