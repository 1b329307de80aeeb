import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { Cell, Workspace } from "../../shared/records.ts";
import { branchBadge } from "./branch-badge.ts";
import "./kept-branches.ts";
import { buttonStyles, statusBadge, statusStyles } from "./styles.ts";

/**
 * The sidebar: workspaces with their cells and live status badges, and a form to add a workspace
 * by path. Events up: `cell-selected {cellId}`, `new-cell {workspaceId}`, `add-workspace {path}`,
 * `remove-workspace {workspaceId}` (offered once a workspace has no cells), `show-timings`.
 */
@customElement("hive-cell-list")
export class HiveCellList extends LitElement {
  static override styles = [
    buttonStyles,
    statusStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        background: var(--hive-panel);
        border-right: 1px solid var(--hive-border);
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 12px 14px;
        font-weight: 700;
        font-size: 15px;
      }
      .brand svg {
        width: 18px;
        height: 18px;
        fill: var(--hive-accent);
      }
      nav {
        flex: 1;
        overflow: auto;
        padding: 0 8px 8px;
      }
      section {
        margin-bottom: 12px;
      }
      .ws {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 6px;
        padding: 6px 6px 4px;
      }
      .ws h2 {
        font-size: 12px;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--hive-muted);
        margin: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .ws button {
        padding: 1px 8px;
        font-size: 12px;
        white-space: nowrap;
        flex: none;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      a {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 8px;
        padding: 6px 8px;
        border-radius: var(--hive-radius);
        color: inherit;
        text-decoration: none;
      }
      a:hover {
        background: var(--hive-sunken);
      }
      a[aria-current="page"] {
        background: var(--hive-sunken);
        box-shadow: inset 3px 0 0 var(--hive-accent);
      }
      a:focus-visible {
        outline: 2px solid var(--hive-focus);
      }
      .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .none {
        color: var(--hive-muted);
        font-size: 12px;
        padding: 2px 8px;
      }
      .none .link {
        border: none;
        background: none;
        padding: 0 0 0 6px;
        font: inherit;
        color: var(--hive-muted);
        text-decoration: underline;
        cursor: pointer;
      }
      li.error {
        padding: 2px 8px;
      }
      footer {
        border-top: 1px solid var(--hive-border);
        padding: 10px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      form {
        display: flex;
        gap: 6px;
      }
      form input {
        flex: 1;
        min-width: 0;
      }
      .error,
      .note {
        font-size: 12px;
        margin: 0;
        word-break: break-word;
      }
      .links {
        display: flex;
        justify-content: space-between;
        font-size: 12px;
      }
      .links a {
        padding: 2px 4px;
        color: var(--hive-muted);
        display: inline;
      }
    `,
  ];

  @property({ attribute: false }) workspaces: Workspace[] = [];
  @property({ attribute: false }) cells: Cell[] = [];
  @property() selectedCellId: string | undefined;
  @property() addError: string | undefined;
  /** Not an error: what adding did when it changed nothing (the repository was already there). */
  @property() addNote: string | undefined;
  /** Why removing a workspace failed, shown under it. */
  @property({ attribute: false }) removeError: { workspaceId: string; message: string } | undefined;
  @property({ type: Boolean }) adding = false;
  @state() private path = "";

  override render() {
    return html`
      <div class="brand">
        <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M8 1l6 3.5v7L8 15l-6-3.5v-7z" /></svg> Hive
      </div>
      <nav aria-label="Cells">
        ${this.workspaces.length === 0 ? html`<p class="none">No workspace yet: add a repository below.</p>` : nothing}
        ${repeat(
          this.workspaces,
          (w) => w.id,
          (w) => this.workspace(w),
        )}
      </nav>
      <footer>
        <form @submit=${this.onAdd} aria-label="Add a workspace">
          <input
            name="path"
            placeholder="/path/to/repository"
            aria-label="Repository path"
            .value=${this.path}
            @input=${(e: InputEvent) => {
              this.path = (e.target as HTMLInputElement).value;
            }}
          />
          <button type="submit" ?disabled=${this.adding || !this.path.trim()}>Add</button>
        </form>
        ${this.addError ? html`<p class="error" role="alert">${this.addError}</p>` : nothing}
        ${this.addNote ? html`<p class="note" role="status">${this.addNote}</p>` : nothing}
        <div class="links">
          <a href="/timings" @click=${(e: Event) => this.nav(e, "show-timings", {})}>Timings</a>
          <a href="#" @click=${(e: Event) => this.nav(e, "show-shortcuts", {})} title="Keyboard shortcuts">? Shortcuts</a>
        </div>
      </footer>
    `;
  }

  /** Clears the path once the workspace it named was added. */
  clearPath(): void {
    this.path = "";
  }

  private workspace(w: Workspace) {
    const cells = this.cells.filter((c) => c.workspaceId === w.id);
    return html`<section data-workspace-id=${w.id}>
      <div class="ws">
        <h2 title=${w.path}>${w.name}</h2>
        <button @click=${() => this.emitEvent("new-cell", { workspaceId: w.id })} title="New cell (Alt+N)">+ Cell</button>
      </div>
      <ul>
        ${
          cells.length === 0
            ? html`<li class="none">
                No cells.
                <button
                  class="link"
                  title="Remove ${w.name} from Hive; the repository at ${w.path} stays as it is"
                  @click=${() => this.emitEvent("remove-workspace", { workspaceId: w.id })}
                >
                  Remove workspace
                </button>
              </li>`
            : nothing
        }
        ${
          this.removeError?.workspaceId === w.id
            ? html`<li class="error" role="alert">${this.removeError.message}</li>`
            : nothing
        }
        ${repeat(
          cells,
          (c) => c.id,
          (c) => html`<li>
            <a
              href="/cells/${encodeURIComponent(c.id)}"
              data-cell-id=${c.id}
              aria-current=${c.id === this.selectedCellId ? "page" : "false"}
              @click=${(e: Event) => this.nav(e, "cell-selected", { cellId: c.id })}
            >
              <span class="name">${c.name}</span>${statusBadge(c.status)}${branchBadge(c.branchStatus)}
            </a>
          </li>`,
        )}
      </ul>
      <hive-kept-branches .workspaceId=${w.id} .cellIds=${cells.map((c) => c.id)}></hive-kept-branches>
    </section>`;
  }

  private onAdd(e: Event): void {
    e.preventDefault();
    const path = this.path.trim();
    if (path) this.emitEvent("add-workspace", { path });
  }

  /** Links stay real links (middle-click opens a tab); a plain click routes inside the app. */
  private nav(e: Event, type: string, detail: object): void {
    const me = e as MouseEvent;
    if (me.ctrlKey || me.metaKey || me.shiftKey || me.button === 1) return;
    e.preventDefault();
    this.emitEvent(type, detail);
  }

  private emitEvent(type: string, detail: object): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-cell-list": HiveCellList;
  }
}
