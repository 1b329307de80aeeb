import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { KeptBranchesController } from "../stores/kept-branches.ts";

/**
 * Under a workspace in the sidebar: branches kept as abandoned when their cells were deleted with work
 * not merged, each with the commands that bring it back or drop it, and a button that drops it.
 */
@customElement("hive-kept-branches")
export class HiveKeptBranches extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-size: 12px;
    }
    summary {
      cursor: pointer;
      color: var(--hive-muted);
      padding: 2px 0;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0 0 0 8px;
    }
    li {
      padding: 4px 0;
      border-bottom: 1px solid var(--hive-border);
    }
    .branch {
      font-family: var(--hive-mono);
      word-break: break-all;
    }
    code {
      display: block;
      font-family: var(--hive-mono);
      font-size: 11px;
      word-break: break-all;
      user-select: all;
      background: var(--hive-sunken);
      padding: 2px 4px;
      margin: 2px 0;
      border-radius: 4px;
    }
    .muted {
      color: var(--hive-muted);
    }
    button {
      font: inherit;
      font-size: 11px;
      border: 1px solid var(--hive-border);
      background: none;
      color: var(--hive-error);
      border-radius: 4px;
      cursor: pointer;
    }
    .error {
      color: var(--hive-error);
    }
  `;

  @property() workspaceId = "";
  /** The workspace's cells now: the list is fetched again whenever they change. */
  @property({ attribute: false }) cellIds: string[] = [];
  private readonly kept = new KeptBranchesController(this);

  protected override willUpdate(): void {
    if (this.workspaceId) this.kept.follow(this.workspaceId, this.cellIds);
  }

  override render() {
    const list = this.kept.branches;
    if (list.length === 0 && !this.kept.error) return nothing;
    return html`<details>
      <summary>Kept branches (${list.length})</summary>
      ${this.kept.error ? html`<p class="error" role="alert">${this.kept.error}</p>` : nothing}
      <ul>
        ${list.map(
          (k) => html`<li data-kept-branch=${k.branch}>
            <div><span class="branch">${k.branch}</span> <span class="muted">abandoned · ${k.ahead} commit${k.ahead === 1 ? "" : "s"} not in ${k.mergeTarget} · from “${k.cellName}”</span></div>
            <div class="muted">Restore:</div>
            <code>${k.restoreCommand}</code>
            <div class="muted">Delete:</div>
            <code>${k.deleteCommand}</code>
            <button
              @click=${() => {
                if (confirm(`Delete ${k.branch} and its ${k.ahead} unmerged commit(s) for good?`))
                  void this.kept.drop(this.workspaceId, k.id);
              }}
            >Delete branch</button>
          </li>`,
        )}
      </ul>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-kept-branches": HiveKeptBranches;
  }
}
