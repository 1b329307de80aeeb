import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { Cell, ChecklistStep } from "../../shared/records.ts";
import type { TerminalKind } from "../../shared/terminals.ts";
import { StoreController } from "../store.ts";
import type { TerminalsStore } from "../stores/terminals.ts";
import { type CellPane, cellPanes, cellStrips, type RevealTarget } from "./cell-panes.ts";
import "./split-panes.ts";
import "./terminal-tabs.ts";
import type { HiveServicesStrip } from "./services-strip.ts";
import { buttonStyles, statusBadge, statusStyles } from "./styles.ts";
import type { HiveTerminalTabs } from "./terminal-tabs.ts";

/**
 * A ready cell: its terminals and the panes other features add (see cell-panes.ts), side by side
 * with resizable gutters; panes can be closed and opened again, and a pane's `revealOn` event (a chat
 * link's `show-diff`) opens it and shows what was asked. The layout is remembered per cell.
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
        container: cell-header / inline-size;
      }
      /*
       * Name and meta start from zero and share what the buttons leave, so a long name is cut rather
       * than pushing the buttons onto a second line, and never takes the branch's share.
       */
      h1 {
        font-size: 16px;
        margin: 0;
        flex: 1 1 0;
        min-width: 5em;
        max-width: max-content;
      }
      h1,
      .meta > span {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .meta {
        color: var(--hive-muted);
        font-size: 12px;
        font-family: var(--hive-mono);
        display: flex;
        gap: 0.6em;
        min-width: 0;
        flex: 1 1 0;
      }
      /* The path gives way before the branch. */
      .meta .path {
        flex: 1 1 0;
        min-width: 0;
      }
      /* Too narrow to share a line with the buttons (a tablet): the branch gets a line of its own. */
      @container cell-header (max-width: 720px) {
        .meta {
          order: 1;
          flex-basis: 100%;
        }
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
      .panes {
        display: flex;
        gap: 4px;
      }
      .panes button[aria-pressed="false"] {
        opacity: 0.6;
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
    // From the shells' tabs and from the services' logs alike.
    this.addEventListener("terminal-link", (e) => this.openLink(e as CustomEvent<{ uri: string }>));
    for (const event of new Set(cellPanes.flatMap((p) => p.revealOn ?? []))) {
      this.addEventListener(event, (e) => void this.reveal(event, (e as CustomEvent).detail));
    }
  }

  private get visiblePanes(): CellPane[] {
    const hidden = this.terminals.layout.layout.value.hidden;
    return cellPanes.filter((p) => !hidden.includes(p.id));
  }

  override render() {
    const c = this.cell;
    const layout = this.terminals.layout.layout.value;
    const panes = this.visiblePanes;
    return html`
      <header>
        <h1 title=${c.name}>${c.name}</h1>
        ${statusBadge(c.status)}
        <span class="meta" title=${`${c.branchName ?? ""}\n${c.worktreePath ?? ""}`}>
          <span class="branch">${c.branchName ?? ""}</span><span class="path">${c.worktreePath ?? ""}</span>
        </span>
        ${this.background.map((s) => this.backgroundLine(s))}
        <span class="panes" role="group" aria-label="Panes">
          ${cellPanes.map(
            (p) => html`<button
              aria-pressed=${panes.includes(p) ? "true" : "false"}
              title=${panes.includes(p) ? `Close the ${p.title} pane` : `Open the ${p.title} pane`}
              @click=${() => this.setPaneOpen(p.id, !panes.includes(p))}
            >
              ${p.title}
            </button>`,
          )}
        </span>
        <button @click=${() => this.emit("cell-archive")} title="Stop everything live, keep the worktree">Archive</button>
        <button class="danger" @click=${() => this.emit("cell-delete")}>Delete</button>
      </header>
      ${cellStrips.map((s) => s.render(c))}
      <hive-split
        .count=${1 + panes.length}
        .sizes=${layout.sizes}
        .weights=${[Math.max(1, panes.length)]}
        @sizes-changed=${(e: CustomEvent<number[]>) => this.terminals.layout.update((l) => ({ ...l, sizes: e.detail }))}
      >
        <hive-terminal-tabs
          slot="pane-0"
          .tabs=${this.terminals.tabs.value}
          .active=${this.terminals.front}
          .error=${this.terminals.error.value}
          ?tui=${Boolean(c.opencodeSessionId)}
          @terminal-new=${(e: CustomEvent<{ kind: TerminalKind }>) => void this.openTerminal(e.detail.kind)}
          @terminal-select=${(e: CustomEvent<{ termId: string }>) => this.terminals.select(e.detail.termId)}
          @terminal-close=${(e: CustomEvent<{ termId: string }>) => void this.closeTerminal(e.detail.termId)}
          @terminal-rename=${(e: CustomEvent<{ termId: string; name: string }>) =>
            this.terminals.rename(e.detail.termId, e.detail.name)}
        ></hive-terminal-tabs>
        ${panes.map(
          (p, i) => html`<section class="side" slot="pane-${i + 1}" data-pane=${p.id}>
            <h2>${p.title}</h2>
            ${p.render(c)}
          </section>`,
        )}
      </hive-split>
    `;
  }

  /** A link clicked in a terminal: one to a service of this cell opens through Hive (see local-links.ts). */
  private openLink(e: CustomEvent<{ uri: string }>): void {
    const target = this.renderRoot
      .querySelector<HiveServicesStrip>("hive-services-strip")
      ?.linkThroughHive(e.detail.uri);
    if (!target) return;
    e.preventDefault();
    window.open(target, "_blank", "noopener,noreferrer");
  }

  /** Opens or closes a pane; the others share its room (sizes start again from the defaults). */
  private setPaneOpen(id: string, open: boolean): void {
    this.terminals.layout.update((l) => ({
      ...l,
      sizes: [],
      hidden: open ? l.hidden.filter((h) => h !== id) : [...l.hidden, id],
    }));
  }

  /** A shell running a program (a build, a server, an editor) closes only once the person says so. */
  private async closeTerminal(termId: string): Promise<void> {
    const answer = await this.terminals.close(termId);
    if (answer && confirm(`${answer.busy} Close it anyway?`)) await this.terminals.close(termId, true);
  }

  /** A pane's revealOn event: the pane opens (if it was closed), takes the focus, and shows `detail`. */
  private async reveal(event: string, detail: unknown): Promise<void> {
    const pane = cellPanes.find((p) => p.revealOn === event);
    if (!pane) return;
    if (!this.visiblePanes.includes(pane)) this.setPaneOpen(pane.id, true);
    await this.updateComplete;
    const el = this.renderRoot.querySelector<HTMLElement & Partial<RevealTarget>>(
      `[data-pane="${pane.id}"] > :not(h2)`,
    );
    el?.reveal?.(detail);
    el?.focus();
  }

  /** Opens a terminal in front, with the keyboard in it. */
  async openTerminal(kind: TerminalKind = "shell"): Promise<void> {
    const termId = await this.terminals.open(kind);
    if (termId) this.renderRoot.querySelector<HiveTerminalTabs>("hive-terminal-tabs")?.focusWhenShown(termId);
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
