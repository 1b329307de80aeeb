import { css, html, LitElement } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import { MERGE_STRATEGIES } from "../../shared/diffs.ts";
import type { Cell } from "../../shared/records.ts";
import type { DiffStore } from "../stores/diff.ts";
import { buttonStyles, toolbarStyles } from "./styles.ts";

const STRATEGY_LABEL: Record<(typeof MERGE_STRATEGIES)[number], string> = {
  ff: "Fast-forward",
  merge: "Merge commit",
  squash: "Squash",
};

/**
 * Finishing a cell's work, under the review pane's toolbar: commit, merge into the base branch with the
 * chosen strategy, or abandon it (confirmed: the cell stops and its branch is kept as abandoned).
 */
@customElement("hive-diff-finish")
export class HiveDiffFinish extends LitElement {
  static override styles = [
    buttonStyles,
    toolbarStyles,
    css`
      summary {
        cursor: pointer;
        padding: 4px 8px;
        color: var(--hive-muted);
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  @property({ attribute: false }) store!: DiffStore;
  @property({ type: Boolean }) busy = false;
  /** The branch a merge goes into, when the diff's summary has said. */
  @property({ attribute: false }) mergesInto: string | null = null;
  @query("#message") private message!: HTMLInputElement;
  @query("#strategy") private strategy!: HTMLSelectElement;

  override render() {
    const c = this.cell;
    const over = c.branchStatus === "merged" || c.branchStatus === "abandoned";
    return html`<details>
      <summary>Finish: commit and merge · branch ${c.branchStatus.replace("_", " ")}</summary>
      <div class="bar">
        <input
          id="message"
          placeholder="Commit message"
          aria-label="Commit message"
          class="grow"
          @input=${() => this.message.setCustomValidity("")}
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === "Enter") void this.commit();
          }}
        />
        <button @click=${() => this.commit()} ?disabled=${this.busy}>Commit</button>
        <select id="strategy" aria-label="Merge strategy">
          ${MERGE_STRATEGIES.map((m) => html`<option value=${m}>${STRATEGY_LABEL[m]}</option>`)}
        </select>
        <button
          @click=${() => this.store.merge(this.strategy.value as (typeof MERGE_STRATEGIES)[number])}
          ?disabled=${this.busy}
        >Merge into ${this.mergesInto ?? "base"}</button>
        <button
          class="danger"
          title="Stop this cell and keep its branch as abandoned (nothing is deleted)"
          @click=${() => this.abandon()}
          ?disabled=${this.busy || over}
        >Abandon…</button>
      </div>
    </details>`;
  }

  private async commit(): Promise<void> {
    const text = this.message.value.trim();
    if (!text) {
      // A click that did nothing would leave the user wondering: say what is missing, where.
      this.message.setCustomValidity("Write a commit message first.");
      this.message.reportValidity();
      return;
    }
    if (await this.store.commit(text)) this.message.value = "";
  }

  private abandon(): void {
    const c = this.cell;
    const ok = confirm(
      `Abandon '${c.name}'? Its services, terminals and agent stop; the branch ${c.branchName} and the worktree are kept.`,
    );
    if (ok) void this.store.abandon();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-diff-finish": HiveDiffFinish;
  }
}
