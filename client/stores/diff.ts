import {
  type CompareMode,
  type DiffFile,
  type DiffSummary,
  DiffSummarySchema,
  type FileContent,
  FileContentSchema,
  FilesEventSchema,
  FilesSnapshotSchema,
  type MergeResult,
  type ReviewComment,
  ReviewCommentSchema,
} from "../../shared/diffs.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

export interface DiffView {
  compare: CompareMode;
  ref: string;
  summary: DiffSummary | undefined;
  /** How changes are noticed (native events, or polling when the OS ran out of watches). */
  watch: { mode: "events" | "polling"; reason: string | null } | undefined;
  selected: string | undefined;
  /** Content of the selected file; undefined while loading. */
  file: FileContent | undefined;
  /** The selected file was collapsed and the user asked for it anyway. */
  forced: boolean;
  comments: ReviewComment[];
  busy: string | undefined;
  error: string | undefined;
  /** The last command's result in words (commit, merge, review sent). */
  notice: string | undefined;
}

const commentsPath = (cellId: string) => `/api/cells/${cellId}/comments`;

/**
 * One cell's diff: the live summary from `files:<cellId>` (against the base; other comparisons over
 * HTTP, refreshed when the channel says files changed), the selected file's two sides, review comments,
 * and the finishing commands (mark viewed, send review, commit, merge).
 */
export class DiffStore {
  readonly view = new Store<DiffView>({
    compare: "base",
    ref: "",
    summary: undefined,
    watch: undefined,
    selected: undefined,
    file: undefined,
    forced: false,
    comments: [],
    busy: undefined,
    error: undefined,
    notice: undefined,
  });
  private off: (() => void) | undefined;
  private fileRequest = 0;

  constructor(
    private readonly socket: HiveSocket,
    readonly cellId: string,
  ) {}

  start(): void {
    this.off = this.socket.subscribe(`files:${this.cellId}`, {
      snapshot: (state) => {
        const parsed = FilesSnapshotSchema.safeParse(state);
        if (!parsed.success) return console.warn("hive: unexpected files snapshot", parsed.error);
        const { watch, summary, error } = parsed.data;
        this.patch({ watch, error: error ?? undefined });
        if (this.view.value.compare === "base" && summary) this.setSummary(summary);
        else void this.reload();
      },
      event: (event) => {
        const parsed = FilesEventSchema.safeParse(event);
        if (!parsed.success) return;
        const e = parsed.data;
        const v = this.view.value;
        if (v.compare === "base" && v.summary) {
          // Apply only what changed: unchanged entries keep their objects (and their rows stay put).
          const gone = new Set([...e.removed, ...e.changed.map((f) => f.path)]);
          const files = [...v.summary.files.filter((f) => !gone.has(f.path)), ...e.changed].sort((a, b) =>
            a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
          );
          this.setSummary({ ...v.summary, files, totals: e.totals, commits: e.commits });
        } else void this.reload();
        const open = v.selected;
        if (open && (e.paths.includes(open) || e.changed.some((f) => f.path === open)))
          void this.loadFile(v.forced);
        void this.loadComments();
      },
      error: (_code, message) => this.patch({ error: message }),
    });
    void this.loadComments();
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  private patch(p: Partial<DiffView>): void {
    this.view.set({ ...this.view.value, ...p });
  }

  private setSummary(summary: DiffSummary): void {
    const v = this.view.value;
    const stillThere = v.selected && summary.files.some((f) => f.path === v.selected);
    this.patch({ summary });
    if (!stillThere) {
      const first = summary.files[0]?.path;
      if (first !== v.selected) this.select(first);
    }
  }

  /** Fetches the summary for the current comparison over HTTP. */
  async reload(): Promise<void> {
    const { compare, ref } = this.view.value;
    const q = new URLSearchParams({ compare, ...(compare === "ref" ? { ref } : {}) });
    try {
      this.setSummary(await api("GET", `/api/cells/${this.cellId}/diff?${q}`, undefined, DiffSummarySchema));
      this.patch({ error: undefined });
    } catch (e) {
      this.patch({ error: (e as Error).message });
    }
  }

  setCompare(compare: CompareMode, ref = ""): void {
    this.patch({ compare, ref, summary: undefined });
    void this.reload();
  }

  entry(path: string | undefined): DiffFile | undefined {
    return path === undefined ? undefined : this.view.value.summary?.files.find((f) => f.path === path);
  }

  select(path: string | undefined): void {
    this.patch({ selected: path, file: undefined, forced: false });
    if (path !== undefined) void this.loadFile(false);
  }

  /** Moves the selection by `step` files (keyboard next/previous). */
  step(step: number): void {
    const files = this.view.value.summary?.files ?? [];
    if (files.length === 0) return;
    const i = files.findIndex((f) => f.path === this.view.value.selected);
    const next = files[Math.min(files.length - 1, Math.max(0, i + step))];
    if (next) this.select(next.path);
  }

  /** Loads the selected file's sides; collapsed files stay a summary until forced ("load anyway"). */
  async loadFile(force: boolean): Promise<void> {
    const v = this.view.value;
    const entry = this.entry(v.selected);
    if (!entry) return;
    this.patch({ forced: force });
    if (entry.collapsed && !force) return this.patch({ file: undefined });
    const req = ++this.fileRequest;
    const q = new URLSearchParams({
      path: entry.path,
      compare: v.compare,
      ...(v.compare === "ref" ? { ref: v.ref } : {}),
      ...(entry.oldPath ? { oldPath: entry.oldPath } : {}),
      ...(force ? { force: "1" } : {}),
    });
    try {
      const file = await api("GET", `/api/cells/${this.cellId}/diff/file?${q}`, undefined, FileContentSchema);
      if (req === this.fileRequest) this.patch({ file });
    } catch (e) {
      if (req === this.fileRequest) this.patch({ error: (e as Error).message });
    }
  }

  async loadComments(): Promise<void> {
    try {
      const comments = await api("GET", commentsPath(this.cellId), undefined, ReviewCommentSchema.array());
      this.patch({ comments });
    } catch (e) {
      this.patch({ error: (e as Error).message });
    }
  }

  private async run(label: string, fn: () => Promise<string | undefined>): Promise<boolean> {
    this.patch({ busy: label, error: undefined, notice: undefined });
    try {
      const notice = await fn();
      this.patch({ busy: undefined, notice });
      return true;
    } catch (e) {
      this.patch({ busy: undefined, error: (e as Error).message });
      return false;
    }
  }

  addComment(path: string, line: number, side: "old" | "new", body: string): Promise<boolean> {
    return this.run("comment", async () => {
      await api("POST", commentsPath(this.cellId), { path, line, side, body });
      await this.loadComments();
      return undefined;
    });
  }

  setResolved(id: number, resolved: boolean): Promise<boolean> {
    return this.run("comment", async () => {
      await api("PATCH", `${commentsPath(this.cellId)}/${id}`, { resolved });
      await this.loadComments();
      return undefined;
    });
  }

  editComment(id: number, body: string): Promise<boolean> {
    return this.run("comment", async () => {
      await api("PATCH", `${commentsPath(this.cellId)}/${id}`, { body });
      await this.loadComments();
      return undefined;
    });
  }

  deleteComment(id: number): Promise<boolean> {
    return this.run("comment", async () => {
      await api("DELETE", `${commentsPath(this.cellId)}/${id}`);
      await this.loadComments();
      return undefined;
    });
  }

  sendReview(): Promise<boolean> {
    return this.run("send", async () => {
      const r = await api<{ sent: number }>("POST", `/api/cells/${this.cellId}/review/send`);
      await this.loadComments();
      return `Sent ${r.sent} comment${r.sent === 1 ? "" : "s"} to the agent.`;
    });
  }

  setViewed(path: string, viewed: boolean): Promise<boolean> {
    return this.run("viewed", async () => {
      await api("PUT", `/api/cells/${this.cellId}/diff/viewed`, { path, viewed });
      const s = this.view.value.summary;
      if (s) {
        const files = s.files.map((f) => (f.path === path ? { ...f, viewed } : f));
        this.patch({ summary: { ...s, files } });
      }
      return undefined;
    });
  }

  markReviewed(): Promise<boolean> {
    return this.run("reviewed", async () => {
      await api("POST", `/api/cells/${this.cellId}/diff/reviewed`);
      return "Marked reviewed: 'since last review' starts here.";
    });
  }

  commit(message: string): Promise<boolean> {
    return this.run("commit", async () => {
      const r = await api<{ commit: string }>("POST", `/api/cells/${this.cellId}/commit`, { message });
      return `Committed ${r.commit.slice(0, 10)}.`;
    });
  }

  /** Gives the work up: the cell stops (archived, worktree kept) and its branch is kept as abandoned. */
  abandon(): Promise<boolean> {
    return this.run("abandon", async () => {
      await api("POST", `/api/cells/${this.cellId}/abandon`);
      return "Abandoned: the cell is stopped and archived; its branch and worktree are kept (Restore brings it back).";
    });
  }

  merge(strategy: "ff" | "merge" | "squash"): Promise<boolean> {
    return this.run("merge", async () => {
      const r = await api<MergeResult>("POST", `/api/cells/${this.cellId}/merge`, { strategy });
      return `Merged into ${r.baseBranch} (${strategy}) at ${r.commit.slice(0, 10)}.`;
    });
  }
}
