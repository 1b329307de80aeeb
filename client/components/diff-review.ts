import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import { COMPARE_MODES, type CompareMode, type DiffFile, type FileSide } from "../../shared/diffs.ts";
import type { Cell } from "../../shared/records.ts";
import { hive } from "../context.ts";
import { loadDraftRecord, saveDraftRecord } from "../drafts.ts";
import { DiffStore } from "../stores/diff.ts";
import {
  type CommentDraft,
  CommentDraftSchema,
  DiffEditorController,
  diffEditorStyles,
} from "./diff-editor-controller.ts";
import "./diff-file-list.ts";
import "./diff-finish.ts";
import type { HiveDiffFileList } from "./diff-file-list.ts";
import "./review-comment.ts";
import { buttonStyles, countOf, toolbarStyles } from "./styles.ts";

const COMPARE_LABEL: Record<CompareMode, string> = {
  base: "Base commit",
  uncommitted: "Uncommitted",
  since_review: "Since last review",
  ref: "Branch or commit…",
};

const size = (bytes: number | null) =>
  bytes === null
    ? ""
    : bytes < 1024
      ? `${bytes} B`
      : bytes < 1024 ** 2
        ? `${(bytes / 1024).toFixed(1)} KB`
        : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

const typing = (e: KeyboardEvent) => {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  // Monaco is read-only here: keys in its own input area are ours (a comment's text field is not Monaco's).
  if (!t || t.classList?.contains("inputarea")) return false;
  return t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable;
};

/**
 * The review pane of a cell: changed files (virtualized) beside a Monaco diff editor loaded on first
 * use as its own chunk, comments from the editor's gutter, "send review to agent", and commit/merge.
 * Keys (inside the pane): j/k next/previous file, n/p next/previous change.
 */
@customElement("hive-diff-review")
export class HiveDiffReview extends LitElement {
  static override styles = [
    buttonStyles,
    toolbarStyles,
    diffEditorStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
        font-size: 13px;
        background: var(--hive-panel);
        container-type: inline-size;
      }
      .muted {
        color: var(--hive-muted);
      }
      .add { color: var(--hive-ok, #2a7); }
      .del { color: var(--hive-error); }
      .body {
        flex: 1;
        min-height: 0;
        display: grid;
        grid-template-columns: minmax(160px, 32%) 1fr;
      }
      hive-diff-file-list {
        border-right: 1px solid var(--hive-border);
        min-height: 0;
      }
      /* A narrow pane stacks the list over the editor, so the editor keeps the full width. */
      @container (max-width: 640px) {
        .body {
          grid-template-columns: 1fr;
          grid-template-rows: minmax(72px, 28%) 1fr;
        }
        hive-diff-file-list {
          border-right: none;
          border-bottom: 1px solid var(--hive-border);
        }
      }
      .main {
        display: flex;
        flex-direction: column;
        min-height: 0;
        min-width: 0;
      }
      .file-head {
        display: flex;
        gap: 8px;
        align-items: center;
        padding: 4px 8px;
        font-family: var(--hive-mono);
        font-size: 12px;
        border-bottom: 1px solid var(--hive-border);
      }
      .file-head .path {
        flex: 1;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .notice {
        padding: 24px;
        text-align: center;
      }
      .comments {
        max-height: 40%;
        overflow: auto;
        border-top: 1px solid var(--hive-border);
      }
      .hint {
        padding: 6px 8px;
      }
      .error,
      .ok {
        padding: 4px 8px;
      }
      .ok {
        color: var(--hive-ok, #2a7);
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  @state() private draft: CommentDraft | undefined;
  @query("hive-diff-file-list") private list!: HiveDiffFileList;
  private store: DiffStore | undefined;
  private readonly editor = new DiffEditorController(this, (click) => {
    const path = this.store?.view.value.selected;
    // What is typed moves along to the line clicked: another click never throws a comment away.
    if (path) this.setDraft({ ...click, path, body: this.draft?.body ?? "", clicked: true });
  });
  /** A file asked for by reveal() before the file list arrived. */
  private wanted: string | undefined;
  private offView: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    for (const [type, fn] of Object.entries(this.commentActions)) this.addEventListener(type, fn);
    // Focusable, so a click anywhere in the pane (or Alt+digit) gives it the j/k/n/p keys.
    if (!this.hasAttribute("tabindex")) this.tabIndex = 0;
    this.addEventListener("keydown", this.onKey, { capture: true });
    if (this.cell) this.requestUpdate(); // back in the page: willUpdate starts the store again
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener("keydown", this.onKey, { capture: true });
    for (const [type, fn] of Object.entries(this.commentActions)) this.removeEventListener(type, fn);
    this.stopStore();
  }

  protected override willUpdate(): void {
    if (this.cell && this.store?.cellId !== this.cell.id) {
      this.stopStore();
      // The store exists only while a cell is shown, so it is subscribed here rather than by a controller.
      this.store = new DiffStore(hive.socket, this.cell.id);
      this.offView = this.store.view.subscribe(() => {
        // After the store's own pick of a first file, which happens in the same update as the list.
        if (this.wanted) queueMicrotask(() => this.selectWanted());
        this.requestUpdate();
      });
      this.store.start();
      this.editor.forgetShown();
      // A comment left half-written in this cell (before a reload, or while another cell was shown).
      this.draft = loadDraftRecord(this.cell.id, "comment", CommentDraftSchema);
      if (this.draft) this.wanted = this.draft.path;
    }
  }

  private setDraft(draft: CommentDraft | undefined): void {
    this.draft = draft;
    if (this.cell) saveDraftRecord(this.cell.id, "comment", draft && { ...draft, clicked: undefined });
  }

  private stopStore(): void {
    this.offView?.();
    this.offView = undefined;
    this.store?.stop();
    this.store = undefined;
  }

  protected override updated(): void {
    if (this.store) void this.editor.sync(this.store.view.value, this.draft);
  }

  /**
   * Shows one file's diff (a chat link's `show-diff {path}`, handed on by the cell view). A pane that was
   * just opened has no file list yet: the file is selected as soon as the list arrives.
   */
  reveal(detail: unknown): void {
    const path = (detail as { path?: unknown } | undefined)?.path;
    if (typeof path !== "string" || !path) return;
    const root = this.cell?.worktreePath;
    this.wanted = root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
    this.selectWanted();
  }

  private selectWanted(): void {
    const wanted = this.wanted;
    if (!wanted || !this.store?.view.value.summary) return;
    this.wanted = undefined;
    if (!this.store.entry(wanted)) return;
    this.store.select(wanted);
    void this.updateComplete.then(() => this.list?.revealSelected());
  }

  private onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e) || !this.store) return;
    const actions: Record<string, () => void> = {
      j: () => this.stepFile(1),
      k: () => this.stepFile(-1),
      n: () => this.editor.goToHunk("next"),
      p: () => this.editor.goToHunk("previous"),
    };
    const act = actions[e.key];
    if (!act) return;
    e.preventDefault();
    e.stopPropagation();
    act();
  };

  private stepFile(step: number): void {
    this.store?.step(step);
    void this.updateComplete.then(() => this.list?.revealSelected());
  }

  /** What the comments (inline and in the list) ask for, as events bubbling up from them. */
  private readonly commentActions: Record<string, (e: Event) => void> = {
    "comment-add": (e) => {
      const d = this.draft;
      const body = (e as CustomEvent<{ body: string }>).detail.body;
      if (!d || !this.store) return;
      void this.store.addComment(d.path, d.line, d.side, body).then((ok) => {
        if (ok && this.draft === d) this.setDraft(undefined);
      });
    },
    "comment-cancel": () => {
      this.setDraft(undefined);
    },
    // Kept as typed, without drawing again: the form shows it when it is made again.
    "comment-draft": (e) => {
      if (!this.draft) return;
      this.draft.body = (e as CustomEvent<{ body: string }>).detail.body;
      this.setDraft(this.draft);
    },
    "comment-resolve": (e) => {
      const { id, resolved } = (e as CustomEvent<{ id: number; resolved: boolean }>).detail;
      void this.store?.setResolved(id, resolved);
    },
    "comment-edit": (e) => {
      const { id, body } = (e as CustomEvent<{ id: number; body: string }>).detail;
      void this.store?.editComment(id, body);
    },
    "comment-delete": (e) => void this.store?.deleteComment((e as CustomEvent<{ id: number }>).detail.id),
    "comment-reveal": (e) => {
      const { line, side } = (e as CustomEvent<{ line: number; side: "old" | "new" }>).detail;
      this.editor.reveal(line, side);
    },
  };

  override render() {
    const s = this.store;
    if (!s) return nothing;
    const v = s.view.value;
    const entry = s.entry(v.selected);
    return html`
      ${this.toolbar()}
      ${v.error ? html`<div class="error" role="alert">${v.error}</div>` : nothing}
      ${v.notice ? html`<div class="ok" role="status">${v.notice}</div>` : nothing}
      <div class="body">
        <hive-diff-file-list
          .files=${v.summary?.files ?? []}
          .selected=${v.selected}
          @file-select=${(e: CustomEvent<{ path: string }>) => s.select(e.detail.path)}
          @file-viewed=${(e: CustomEvent<{ path: string; viewed: boolean }>) => s.setViewed(e.detail.path, e.detail.viewed)}
        ></hive-diff-file-list>
        <div class="main">
          ${entry ? this.fileHead(entry) : nothing}
          ${this.content(entry)}
          ${entry ? this.comments(entry.path) : nothing}
        </div>
      </div>
    `;
  }

  private toolbar() {
    const s = this.store!;
    const v = s.view.value;
    const open = v.comments.filter((c) => !c.resolved && c.sentAt === null).length;
    const t = v.summary?.totals;
    return html`<div class="bar">
        <label class="muted" for="compare">Compare with</label>
        <select
          id="compare"
          .value=${v.compare}
          @change=${(e: Event) => {
            const mode = (e.target as HTMLSelectElement).value as CompareMode;
            if (mode !== "ref") s.setCompare(mode);
            else this.store!.view.set({ ...v, compare: "ref" });
          }}
        >
          ${COMPARE_MODES.map((m) => html`<option value=${m} ?selected=${m === v.compare}>${COMPARE_LABEL[m]}</option>`)}
        </select>
        ${
          v.compare === "ref"
            ? html`<input
                placeholder="main, v1.2, a1b2c3…"
                aria-label="Branch or commit to compare with"
                .value=${v.ref}
                @keydown=${(e: KeyboardEvent) => {
                  if (e.key === "Enter") s.setCompare("ref", (e.target as HTMLInputElement).value.trim());
                }}
              />`
            : nothing
        }
        ${t ? html`<span>${countOf(t.files, "file")} <span class="add">+${t.additions}</span> <span class="del">−${t.deletions}</span></span>` : html`<span class="muted">loading…</span>`}
        ${v.summary?.note ? html`<span class="muted">${v.summary.note}</span>` : nothing}
        ${v.watch?.mode === "polling" ? html`<span class="muted" title=${v.watch.reason ?? ""}>live by polling (${v.watch.reason})</span>` : nothing}
        <span class="grow"></span>
        <button @click=${() => this.editor.toggleSideBySide()}>
          ${this.editor.sideBySide ? "Inline" : "Side by side"}
        </button>
        <button @click=${() => s.markReviewed()} ?disabled=${!!v.busy}>Mark reviewed</button>
        <button class="primary" @click=${() => s.sendReview()} ?disabled=${open === 0 || !!v.busy}>
          Send review to agent${open ? ` (${open})` : ""}
        </button>
      </div>
      <hive-diff-finish
        .cell=${this.cell}
        .store=${s}
        .mergesInto=${v.summary?.mergesInto ?? null}
        ?busy=${!!v.busy}
      ></hive-diff-finish>`;
  }

  private fileHead(f: DiffFile) {
    const s = this.store!;
    return html`<div class="file-head">
      <span class="path" title=${f.path}>${f.oldPath ? `${f.oldPath} → ` : ""}${f.path}</span>
      <span class="muted">${f.status.replace("_", " ")}${f.similarity !== null ? ` ${f.similarity}%` : ""}${f.modeChanged ? ` · mode ${f.oldMode} → ${f.newMode}` : ""}</span>
      <label><input type="checkbox" .checked=${f.viewed} @change=${(e: Event) => s.setViewed(f.path, (e.target as HTMLInputElement).checked)} /> Viewed</label>
    </div>`;
  }

  private content(entry: DiffFile | undefined) {
    const s = this.store!;
    const v = s.view.value;
    if (!v.summary) return html`<div class="notice muted">Loading the diff…</div>`;
    if (!entry)
      return html`<div class="notice muted">${v.summary.files.length === 0 ? "No changes." : "Pick a file."}</div>`;
    const file = v.file?.path === entry.path ? v.file : undefined;
    const big = entry.newSize ?? entry.oldSize;
    let notice: unknown = nothing;
    if (entry.collapsed === "binary" || file?.new.binary || file?.old.binary) {
      notice = html`Binary file${big !== null ? `, ${size(big)}` : ""}: not shown.`;
    } else if (entry.collapsed && !v.forced) {
      const why =
        entry.collapsed === "too_large"
          ? `Large diff (${size(big)}, ${entry.additions + entry.deletions} lines)`
          : "The diff is past its size limit";
      notice = html`${why}: collapsed to keep this tab fast.
        <button @click=${() => s.loadFile(true)}>Load anyway</button>`;
    } else if (file && file.new.content === null && file.old.content === null) {
      notice = html`Too large to show (${size(Math.max(file.new.size, file.old.size))}).
        <button @click=${() => s.loadFile(true)}>Load anyway</button>`;
    } else if (!file) notice = html`<span class="muted">Loading ${entry.path}…</span>`;
    else if (emptyOnly(file.new, file.old)) notice = html`Empty file added: no lines to show.`;
    else if (emptyOnly(file.old, file.new)) notice = html`Empty file deleted: no lines to show.`;
    else if (this.editor.failed) notice = html`The diff editor failed to load; see the browser console.`;
    const showEditor = notice === nothing;
    return html`${showEditor ? nothing : html`<div class="notice">${notice}</div>`}
      ${this.editor.view(showEditor)}`;
  }

  private comments(path: string) {
    const mine = this.store!.view.value.comments.filter((c) => c.path === path);
    return html`<div class="comments">
      ${mine.length === 0 && this.draft?.path !== path ? html`<div class="hint muted">Click a line number to comment on it.</div>` : nothing}
      ${mine.map((c) => html`<hive-review-comment .comment=${c}></hive-review-comment>`)}
    </div>`;
  }
}

/** `side` is an empty file and `other` does not exist: Monaco would show two blank panes. */
function emptyOnly(side: FileSide, other: FileSide): boolean {
  return side.exists && side.content === "" && !other.exists;
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-diff-review": HiveDiffReview;
  }
}
