import { css, html, LitElement } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { DiffFile } from "../../shared/diffs.ts";

const ROW_PX = 24;
/** Rows drawn above and below the visible ones, so fast scrolling never shows a gap. */
const OVERSCAN = 20;

const STATUS_MARK: Record<DiffFile["status"], string> = {
  added: "A",
  modified: "M",
  deleted: "D",
  renamed: "R",
  type_changed: "T",
};

/**
 * The changed files, virtualized: only the rows in view (plus a margin) are in the DOM, so a diff of
 * thousands of files scrolls as smoothly as one of ten. Fires `file-select {path}` and
 * `file-viewed {path, viewed}`.
 */
@customElement("hive-diff-file-list")
export class HiveDiffFileList extends LitElement {
  static override styles = css`
    :host {
      display: block;
      overflow: auto;
      position: relative;
      font-size: 12px;
      font-family: var(--hive-mono);
      contain: strict;
    }
    .spacer {
      position: relative;
    }
    .row {
      position: absolute;
      left: 0;
      right: 0;
      height: ${ROW_PX}px;
      display: flex;
      align-items: center;
      gap: 6px;
      padding: 0 8px;
      cursor: pointer;
      white-space: nowrap;
      box-sizing: border-box;
    }
    .row:hover {
      background: var(--hive-sunken);
    }
    .row.selected {
      background: var(--hive-selected, var(--hive-sunken));
      box-shadow: inset 2px 0 var(--hive-accent);
    }
    .row.viewed .name {
      color: var(--hive-muted);
    }
    .mark {
      width: 12px;
      font-weight: 700;
    }
    .A { color: var(--hive-ok, #2a7); }
    .D { color: var(--hive-error); }
    .R, .T { color: var(--hive-warn); }
    .name {
      flex: 1;
      overflow: hidden;
      text-overflow: ellipsis;
      direction: rtl;
      text-align: left;
    }
    .add { color: var(--hive-ok, #2a7); }
    .del { color: var(--hive-error); }
    .note { color: var(--hive-muted); }
    input { margin: 0; }
  `;

  @property({ attribute: false }) files: DiffFile[] = [];
  @property() selected: string | undefined;
  /** The host's scroll offset, as state so scrolling re-renders the visible rows. */
  @state() private offset = 0;
  @state() private height = 400;
  private resize = new ResizeObserver(() => {
    this.height = this.clientHeight;
  });

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.hasAttribute("tabindex")) this.tabIndex = 0;
    this.resize.observe(this);
    this.addEventListener("scroll", this.onScroll, { passive: true });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.removeEventListener("scroll", this.onScroll);
  }

  private onScroll = () => {
    this.offset = this.scrollTop;
  };

  /** Scrolls the selected file into view (keyboard navigation). */
  revealSelected(): void {
    const i = this.files.findIndex((f) => f.path === this.selected);
    if (i < 0) return;
    const top = i * ROW_PX;
    if (top < this.scrollTop) this.scrollTop = top;
    else if (top + ROW_PX > this.scrollTop + this.clientHeight)
      this.scrollTop = top + ROW_PX - this.clientHeight;
  }

  override render() {
    const first = Math.max(0, Math.floor(this.offset / ROW_PX) - OVERSCAN);
    const last = Math.min(this.files.length, Math.ceil((this.offset + this.height) / ROW_PX) + OVERSCAN);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(this.row(this.files[i]!, i));
    return html`<div class="spacer" role="listbox" aria-label="Changed files" style="height:${this.files.length * ROW_PX}px">
      ${rows}
    </div>`;
  }

  private row(f: DiffFile, i: number) {
    const mark = STATUS_MARK[f.status];
    const title = `${f.oldPath ? `${f.oldPath} → ` : ""}${f.path}${f.similarity !== null ? ` (${f.similarity}% similar)` : ""}${f.modeChanged ? ` mode ${f.oldMode} → ${f.newMode}` : ""}`;
    return html`<div
      class="row ${f.path === this.selected ? "selected" : ""} ${f.viewed ? "viewed" : ""}"
      role="option"
      aria-selected=${f.path === this.selected}
      data-path=${f.path}
      style="top:${i * ROW_PX}px"
      title=${title}
      @click=${() => this.emit("file-select", { path: f.path })}
    >
      <span class="mark ${mark}">${mark}</span>
      <span class="name"><bdi>${f.path}</bdi></span>
      ${f.binary ? html`<span class="note">binary</span>` : html`<span class="add">+${f.additions}</span><span class="del">−${f.deletions}</span>`}
      ${f.modeChanged ? html`<span class="note">mode</span>` : ""}
      <input
        type="checkbox"
        title="Viewed"
        aria-label="Viewed ${f.path}"
        .checked=${f.viewed}
        @click=${(e: Event) => e.stopPropagation()}
        @change=${(e: Event) => this.emit("file-viewed", { path: f.path, viewed: (e.target as HTMLInputElement).checked })}
      />
    </div>`;
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-diff-file-list": HiveDiffFileList;
  }
}
