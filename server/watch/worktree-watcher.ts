import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import watcher from "@parcel/watcher";
import { snapshotTree } from "../diffs/snapshot.ts";
import { GitError, git } from "../worktrees/git.ts";

/**
 * Notices changes in one cell's worktree and reports them in debounced batches of relative paths.
 *
 * Native events come from @parcel/watcher: one inotify watch per directory, ready in well under a
 * second on 100,000 files (chokidar needs one watch per file and seconds to get ready; see
 * bench/watch.ts). When the OS has no watches left for the tree, it polls the git index instead
 * (a snapshot tree every few seconds, diffed with the last) and says so in `reason`.
 */

/** Wait this long after the last event before reporting, so a burst of writes is one batch. */
const QUIET_MS = 50;
/** ...but never hold a batch longer than this, so a steady stream of writes still shows up live. */
const MAX_WAIT_MS = 250;
const POLL_MS = 2000;
/** Paths reported per batch; beyond this the batch says only that many files changed. */
const MAX_BATCH_PATHS = 5000;
/** Plain paths, not globs: parcel matches globs with std::regex per file, a second on 100,000 files. */
const ALWAYS_IGNORED = [".git", "node_modules"];
/** New paths looked into per batch for directories parcel has not seen; more means subscribing again. */
const MAX_CREATED_CHECKED = 200;
/** Ignored directories passed to the watcher at start; more are still filtered per batch. */
const MAX_IGNORED_DIRS = 1000;
/**
 * Subscribing again crawls the whole tree, and its truncated batch makes the consumer re-read every file:
 * a program making nested directories over and over (a test suite's temp dirs) gets one at most this
 * often, and at most every RESCAN_COST_FACTOR times the last one took, so rescans keep under a tenth of a
 * core on any tree.
 */
const RESCAN_MIN_INTERVAL_MS = 2000;
const RESCAN_COST_FACTOR = 10;

export type WatchMode = "events" | "polling";

export interface WatchBatch {
  /** Changed paths relative to the worktree (at most MAX_BATCH_PATHS; ignored files left out). */
  paths: string[];
  /** More paths changed than listed. */
  truncated: boolean;
}

export interface WatchOptions {
  onBatch(batch: WatchBatch): void;
  onError?(error: Error): void;
  /** "poll" skips native events (used when the caller already knows the tree is too big for them). */
  backend?: "auto" | "poll";
  pollMs?: number;
  /** Swappable only so a test can stand in for an OS that has run out of watches. */
  subscribe?: typeof watcher.subscribe;
}

function watchLimitText(): string {
  try {
    return `fs.inotify.max_user_watches=${readFileSync("/proc/sys/fs/inotify/max_user_watches", "utf8").trim()}`;
  } catch {
    return "the OS file-watch limit";
  }
}

/**
 * Directories .gitignore hides (build output, nested node_modules), so they cost no watches and no
 * crawl. git lists them without descending; check-ignore then drops directories listed only because
 * everything in them is ignored so far (new files there must still be seen).
 */
async function ignoredDirs(dir: string): Promise<string[]> {
  const listed = await git(["ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"], {
    cwd: dir,
  });
  const dirs = listed
    .split("\0")
    .filter((p) => p.endsWith("/"))
    .map((p) => p.slice(0, -1))
    .slice(0, MAX_IGNORED_DIRS);
  if (dirs.length === 0) return [];
  const out = await git(["check-ignore", "--stdin", "-z"], { cwd: dir, input: `${dirs.join("\0")}\0` }).catch(
    (e: unknown) => {
      if (e instanceof GitError && e.exitCode === 1) return "";
      throw e;
    },
  );
  return out.split("\0").filter(Boolean);
}

const isWatchLimit = (e: Error) =>
  /ENOSPC|no space left|inotify|too many|watch limit|EMFILE/i.test(e.message);

export class WorktreeWatcher {
  mode: WatchMode = "events";
  reason: string | null = null;
  private subscription: watcher.AsyncSubscription | undefined;
  private ignore: string[] = [];
  /** Bumped per subscription: see rescan(). */
  private generation = 0;
  private rescanning: Promise<void> | undefined;
  /** When the next rescan may start, and the one waiting for then: see RESCAN_MIN_INTERVAL_MS. */
  private nextRescanAt = 0;
  private rescanTimer: NodeJS.Timeout | undefined;
  /** Paths created since the last flush, to look inside: see rescan(). */
  private created = new Set<string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastTree: string | undefined;
  private pending = new Set<string>();
  private truncated = false;
  private quietTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    readonly dir: string,
    private readonly opts: WatchOptions,
  ) {}

  /** Starts watching; resolves once changes from now on will be reported. */
  static async start(dir: string, opts: WatchOptions): Promise<WorktreeWatcher> {
    const w = new WorktreeWatcher(dir, opts);
    if (opts.backend === "poll") await w.startPolling("polling was asked for");
    else {
      try {
        w.ignore = [...ALWAYS_IGNORED, ...(await ignoredDirs(dir))];
        w.subscription = await w.subscribe();
      } catch (e) {
        const err = e as Error;
        if (!isWatchLimit(err)) throw err;
        await w.startPolling(`out of file watches (${watchLimitText()}): ${err.message}`);
      }
    }
    return w;
  }

  private subscribe(): Promise<watcher.AsyncSubscription> {
    // A path that never exists tells this subscription's ignore list apart from the last one's.
    const ignore =
      this.generation++ === 0 ? this.ignore : [...this.ignore, `.hive-rescan-${this.generation}`];
    return (this.opts.subscribe ?? watcher.subscribe)(this.dir, (err, events) => this.onEvents(err, events), {
      ignore,
    });
  }

  /**
   * @parcel/watcher watches a new directory when it hears of it but never looks inside
   * (parcel-bundler/watcher#243): directories made in it before that (`mkdir -p a/b/c`, an unpacked
   * archive) would go unwatched for good. When a new directory holds directories, the tree is subscribed
   * again. parcel keeps one crawled tree per directory while any subscription holds it, so the old
   * subscription must go first; what is written in between is not heard, so the next batch is marked
   * truncated and the consumer re-reads everything. The new subscription differs from the old by a path
   * in its ignore list that never exists, so it cannot be handed the old one while that is being torn down.
   */
  private async rescan(): Promise<void> {
    if (this.rescanning || this.stopped || !this.subscription) return;
    const started = performance.now();
    this.rescanning = (async () => {
      try {
        const prev = this.subscription;
        this.subscription = undefined;
        await prev?.unsubscribe().catch(() => undefined);
        if (this.stopped) return;
        this.ignore = [...ALWAYS_IGNORED, ...(await ignoredDirs(this.dir))];
        this.subscription = await this.subscribe();
        this.truncated = true;
        this.schedule();
      } catch (e) {
        const err = e as Error;
        this.opts.onError?.(err);
        // Nothing watches the tree any more: polling takes over rather than the view going stale for good.
        if (!this.subscription && !this.stopped) {
          await this.startPolling(
            isWatchLimit(err)
              ? `out of file watches (${watchLimitText()}): ${err.message}`
              : `watching again failed: ${err.message}`,
          );
          this.truncated = true;
          this.schedule();
        }
      } finally {
        this.rescanning = undefined;
        const took = performance.now() - started;
        this.nextRescanAt = Date.now() + Math.max(RESCAN_MIN_INTERVAL_MS, RESCAN_COST_FACTOR * took);
      }
    })();
    await this.rescanning;
  }

  /** A rescan now, or once the last one is far enough behind; requests meanwhile become that one. */
  private requestRescan(): void {
    if (this.rescanTimer || this.stopped) return;
    const wait = this.nextRescanAt - Date.now();
    if (wait <= 0 && !this.rescanning) {
      void this.rescan();
      return;
    }
    this.rescanTimer = setTimeout(
      () => {
        this.rescanTimer = undefined;
        if (this.rescanning) void this.rescanning.then(() => this.requestRescan());
        else this.requestRescan();
      },
      Math.max(wait, 0),
    );
  }

  /** True when one of these new paths is a directory already holding a directory parcel has not seen. */
  private async nestedDirs(created: string[]): Promise<boolean> {
    // Past this many new paths (a branch switch, an unpacked archive) looking is slower than subscribing again.
    if (created.length > MAX_CREATED_CHECKED) return true;
    for (const rel of created) {
      const entries = await readdir(join(this.dir, rel), { withFileTypes: true }).catch(() => []);
      if (entries.some((e) => e.isDirectory())) return true;
    }
    return false;
  }

  private onEvents(err: Error | null, events: watcher.Event[]): void {
    if (this.stopped) return;
    if (err) {
      if (isWatchLimit(err))
        void this.switchToPolling(`out of file watches (${watchLimitText()}): ${err.message}`);
      else this.opts.onError?.(err);
      return;
    }
    for (const e of events) {
      const rel = relative(this.dir, e.path).split(sep).join("/");
      this.add(rel);
      if (e.type === "create" && this.created.size <= MAX_CREATED_CHECKED) this.created.add(rel);
    }
    this.schedule();
  }

  private add(path: string): void {
    if (path === "" || path.startsWith("..")) return;
    if (this.pending.size >= MAX_BATCH_PATHS) this.truncated = true;
    else this.pending.add(path);
  }

  private schedule(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => void this.flush(), QUIET_MS);
    this.maxTimer ??= setTimeout(() => void this.flush(), MAX_WAIT_MS);
  }

  private async flush(): Promise<void> {
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    this.quietTimer = this.maxTimer = undefined;
    const paths = [...this.pending];
    const truncated = this.truncated;
    const created = [...this.created];
    this.pending.clear();
    this.created.clear();
    this.truncated = false;
    if ((paths.length === 0 && !truncated) || this.stopped) return;
    let kept = paths;
    try {
      if (paths.length > 0) kept = await this.dropIgnored(paths);
    } catch (e) {
      // Reported unfiltered rather than lost: an ignored path costs a diff of it, a lost one a stale view.
      this.opts.onError?.(e as Error);
    }
    // Ignored new directories (build output made again and again) never cost a new subscription.
    const keptSet = new Set(kept);
    const newDirs = created.filter((p) => keptSet.has(p));
    if (newDirs.length > 0 && (await this.nestedDirs(newDirs))) this.requestRescan();
    if ((kept.length > 0 || truncated) && !this.stopped) this.opts.onBatch({ paths: kept, truncated });
  }

  /** Leaves out what .gitignore hides: build output churning must not recompute diffs. */
  private async dropIgnored(paths: string[]): Promise<string[]> {
    let out = "";
    try {
      out = await git(["check-ignore", "--stdin", "-z"], { cwd: this.dir, input: `${paths.join("\0")}\0` });
    } catch (e) {
      if (!(e instanceof GitError) || e.exitCode !== 1) throw e; // exit 1: none of them is ignored
    }
    const ignored = new Set(out.split("\0").filter(Boolean));
    return ignored.size === 0 ? paths : paths.filter((p) => !ignored.has(p));
  }

  private async switchToPolling(reason: string): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.unsubscribe().catch(() => undefined);
    if (!this.stopped) await this.startPolling(reason);
  }

  private async startPolling(reason: string): Promise<void> {
    this.mode = "polling";
    this.reason = reason;
    this.lastTree = await snapshotTree(this.dir);
    const tick = async () => {
      if (this.stopped) return;
      try {
        const tree = await snapshotTree(this.dir);
        if (tree !== this.lastTree && this.lastTree !== undefined) {
          const names = await git(["diff-tree", "-r", "--name-only", "-z", this.lastTree, tree], {
            cwd: this.dir,
          });
          for (const p of names.split("\0")) if (p) this.add(p);
          await this.flush();
        }
        this.lastTree = tree;
      } catch (e) {
        this.opts.onError?.(e as Error);
      }
      if (!this.stopped) this.pollTimer = setTimeout(tick, this.opts.pollMs ?? POLL_MS);
    };
    this.pollTimer = setTimeout(tick, this.opts.pollMs ?? POLL_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rescanTimer);
    await this.rescanning;
    clearTimeout(this.quietTimer);
    clearTimeout(this.maxTimer);
    clearTimeout(this.pollTimer);
    const sub = this.subscription;
    this.subscription = undefined;
    // The worktree may already be gone (the cell was deleted): @parcel/watcher then fails with EINVAL, and
    // there is nothing left to release.
    await sub?.unsubscribe().catch(() => undefined);
  }
}
