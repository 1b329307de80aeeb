import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Cell, ChecklistStep } from "../../shared/records.ts";
import { StoreController } from "../store.ts";
import type { TerminalsStore } from "../stores/terminals.ts";
import { cellPanes, cellStrips } from "./cell-panes.ts";
import "./split-panes.ts";
import "./terminal-tabs.ts";
import { buttonStyles, statusBadge, statusStyles } from "./styles.ts";
import type { HiveTerminalTabs } from "./terminal-tabs.ts";

/** The terminals start with as much room as all other panes together. */
const TERMINALS_FIRST = [Math.max(1, cellPanes.length)];

/**
 * A ready cell: its terminals and the panes other features add (see cell-panes.ts), side by side
 * with resizable gutters; the layout is remembered per cell.
 */
@customElement("hive-cell-view")
export class HiveCellView extends LitElement {
  static override styles = [
    buttonStyles,
    statusStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
      }
      header {
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 8px 14px;
        border-bottom: 1px solid var(--hive-border);
        background: var(--hive-panel);
        flex-wrap: wrap;
      }
      h1 {
        font-size: 16px;
        margin: 0;
      }
      .meta {
        color: var(--hive-muted);
        font-size: 12px;
        font-family: var(--hive-mono);
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        min-width: 0;
        flex: 1;
      }
      .background {
        font-size: 12px;
        color: var(--hive-muted);
      }
      .background.failed {
        color: var(--hive-error);
      }
      hive-split {
        flex: 1;
        min-height: 0;
      }
      .side {
        display: flex;
        flex-direction: column;
        min-height: 0;
        border-left: 1px solid var(--hive-border);
        background: var(--hive-panel);
      }
      .side > h2 {
        font-size: 12px;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--hive-muted);
        margin: 0;
        padding: 6px 10px;
        border-bottom: 1px solid var(--hive-border);
      }
      .side > :not(h2) {
        flex: 1;
        min-height: 0;
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  @property({ attribute: false }) terminals!: TerminalsStore;
  /** Steps that do not hold back ready (the agent warming up), shown here while they run or if they failed. */
  @property({ attribute: false }) background: ChecklistStep[] = [];

  constructor() {
    super();
    new StoreController(this, () => [
      this.terminals?.tabs,
      this.terminals?.active,
      this.terminals?.error,
      this.terminals?.layout.layout,
    ]);
  }

  override render() {
    const c = this.cell;
    const layout = this.terminals.layout.layout.value;
    return html`
      <header>
        <h1>${c.name}</h1>
        ${statusBadge(c.status)}
        <span class="meta" title=${c.worktreePath ?? ""}>${c.branchName ?? ""} · ${c.worktreePath ?? ""}</span>
        ${this.background.map((s) => this.backgroundLine(s))}
        <button @click=${() => this.emit("cell-archive")} title="Stop everything live, keep the worktree">Archive</button>
        <button class="danger" @click=${() => this.emit("cell-delete")}>Delete</button>
      </header>
      ${cellStrips.map((s) => s.render(c))}
      <hive-split
        .count=${1 + cellPanes.length}
        .sizes=${layout.sizes}
        .weights=${TERMINALS_FIRST}
        @sizes-changed=${(e: CustomEvent<number[]>) => this.terminals.layout.update((l) => ({ ...l, sizes: e.detail }))}
      >
        <hive-terminal-tabs
          slot="pane-0"
          .tabs=${this.terminals.tabs.value}
          .active=${this.terminals.front}
          .error=${this.terminals.error.value}
          @terminal-new=${() => void this.terminals.open()}
          @terminal-select=${(e: CustomEvent<{ termId: string }>) => this.terminals.select(e.detail.termId)}
          @terminal-close=${(e: CustomEvent<{ termId: string }>) => this.terminals.close(e.detail.termId)}
          @terminal-rename=${(e: CustomEvent<{ termId: string; name: string }>) =>
            this.terminals.rename(e.detail.termId, e.detail.name)}
        ></hive-terminal-tabs>
        ${cellPanes.map(
          (p, i) => html`<section class="side" slot="pane-${i + 1}" data-pane=${p.id}>
            <h2>${p.title}</h2>
            ${p.render(c)}
          </section>`,
        )}
      </hive-split>
    `;
  }

  /** Focuses pane `index` (0: the terminal in front). */
  focusPane(index: number): void {
    if (index === 0) {
      this.renderRoot.querySelector<HiveTerminalTabs>("hive-terminal-tabs")?.focusActive();
      return;
    }
    const pane = this.renderRoot.querySelector<HTMLElement>(`[slot="pane-${index}"] > :not(h2)`);
    pane?.focus();
  }

  private backgroundLine(s: ChecklistStep) {
    if (s.state !== "running" && s.state !== "failed") return nothing;
    const text = s.state === "failed" ? `${s.label} failed: ${s.detail ?? ""}` : `${s.label}…`;
    return html`<span class="background ${s.state}" role="status" data-step=${s.step}>${text}</span>`;
  }

  private emit(type: string): void {
    this.dispatchEvent(
      new CustomEvent(type, { detail: { cellId: this.cell.id }, bubbles: true, composed: true }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-cell-view": HiveCellView;
  }
}
