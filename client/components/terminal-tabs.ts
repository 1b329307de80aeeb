import { css, html, LitElement, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { TerminalKind } from "../../shared/terminals.ts";
import type { TerminalTab } from "../stores/terminals.ts";
import "./terminal-pane.ts";
import type { HiveTerminalPane } from "./terminal-pane.ts";

/**
 * A cell's terminals as tabs: open a shell (or OpenCode's TUI on the cell's agent session), switch, rename
 * (double-click), close. Every terminal stays mounted so its screen keeps up while hidden. Events up:
 * `terminal-new {kind}`, `terminal-select`, `terminal-rename`, `terminal-close`.
 */
@customElement("hive-terminal-tabs")
export class HiveTerminalTabs extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      background: var(--hive-panel);
    }
    .bar {
      display: flex;
      align-items: stretch;
      gap: 2px;
      padding: 4px 6px 0;
      border-bottom: 1px solid var(--hive-border);
      overflow-x: auto;
      flex: none;
    }
    .tab {
      display: flex;
      align-items: center;
      gap: 4px;
      padding: 4px 6px 4px 10px;
      border: 1px solid transparent;
      border-bottom: none;
      border-radius: var(--hive-radius) var(--hive-radius) 0 0;
      color: var(--hive-muted);
      background: none;
      font: inherit;
      cursor: pointer;
      white-space: nowrap;
    }
    .tab[aria-selected="true"] {
      color: var(--hive-text);
      background: var(--hive-term-bg);
      border-color: var(--hive-border);
    }
    .tab input {
      font: inherit;
      width: 9em;
    }
    .x,
    .add {
      border: none;
      background: none;
      color: var(--hive-muted);
      cursor: pointer;
      font: inherit;
      padding: 0 4px;
      border-radius: 4px;
      white-space: nowrap;
      flex: none;
    }
    .x:hover,
    .add:hover {
      color: var(--hive-text);
      background: var(--hive-sunken);
    }
    .screens {
      position: relative;
      flex: 1;
      min-height: 0;
    }
    hive-terminal-pane {
      position: absolute;
      inset: 0;
    }
    hive-terminal-pane:not([active]) {
      visibility: hidden;
    }
    .empty {
      display: grid;
      place-items: center;
      height: 100%;
      color: var(--hive-muted);
      text-align: center;
    }
    .empty button,
    .error {
      margin-top: 8px;
    }
    .error {
      color: var(--hive-error);
      padding: 6px 10px;
    }
    button.primary {
      font: inherit;
      padding: 6px 14px;
      border-radius: var(--hive-radius);
      border: none;
      background: var(--hive-accent);
      color: var(--hive-accent-text);
      cursor: pointer;
    }
  `;

  @property({ attribute: false }) tabs: TerminalTab[] = [];
  @property({ attribute: false }) active: string | null = null;
  @property() error: string | undefined;
  /** The cell's agent has a session the OpenCode TUI can attach to. */
  @property({ type: Boolean }) tui = false;
  @state() private renaming: string | null = null;
  /** A terminal the person just opened or picked: it takes the keyboard once it is shown in front. */
  private focusPending: string | null = null;

  override render() {
    return html`
      <div class="bar" role="tablist" aria-label="Terminals">
        ${repeat(
          this.tabs,
          (t) => t.termId,
          (t) => html`<div
            class="tab"
            role="tab"
            tabindex="0"
            data-term-id=${t.termId}
            aria-selected=${t.termId === this.active ? "true" : "false"}
            title="Double-click to rename"
            @click=${() => {
              this.emit("terminal-select", { termId: t.termId });
              this.focusWhenShown(t.termId);
            }}
            @dblclick=${() => {
              this.renaming = t.termId;
            }}
          >
            ${
              this.renaming === t.termId
                ? html`<input
                  aria-label="Terminal name"
                  .value=${t.name}
                  @keydown=${(e: KeyboardEvent) => this.onRenameKey(e, t.termId)}
                  @blur=${(e: FocusEvent) => this.finishRename(t.termId, (e.target as HTMLInputElement).value)}
                />`
                : html`<span class="name">${t.name}</span>`
            }
            <button
              class="x"
              aria-label="Close ${t.name}"
              title="Close this shell"
              @click=${(e: Event) => {
                e.stopPropagation();
                this.emit("terminal-close", { termId: t.termId });
              }}
            >
              ×
            </button>
          </div>`,
        )}
        <button class="add" aria-label="New terminal" title="New terminal (Alt+T)" @click=${() => this.openNew("shell")}>
          +
        </button>
        ${
          this.tui
            ? html`<button class="add" title="OpenCode's own terminal UI on this cell's agent session" @click=${() => this.openNew("opencode-tui")}>
              + OpenCode TUI
            </button>`
            : null
        }
      </div>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : null}
      <div class="screens">
        ${
          this.tabs.length === 0
            ? html`<div class="empty">
              <div>
                <div>No terminal open in this cell.</div>
                <button class="primary" @click=${() => this.openNew("shell")}>Open a terminal</button>
                ${this.tui ? html`<button class="add" @click=${() => this.openNew("opencode-tui")}>or the OpenCode TUI</button>` : null}
              </div>
            </div>`
            : repeat(
                this.tabs,
                (t) => t.termId,
                (t) =>
                  html`<hive-terminal-pane
                  data-term-id=${t.termId}
                  .session=${t.session}
                  ?active=${t.termId === this.active}
                ></hive-terminal-pane>`,
              )
        }
      </div>
    `;
  }

  override updated(changed: PropertyValues<this>): void {
    this.renderRoot.querySelector<HTMLInputElement>(".tab input")?.focus();
    if (changed.has("active"))
      this.renderRoot
        .querySelector(`.tab[data-term-id="${this.active}"]`)
        ?.scrollIntoView({ block: "nearest", inline: "nearest" });
    const pending = this.focusPending;
    if (!pending || pending !== this.active) return;
    const pane = this.renderRoot.querySelector<HiveTerminalPane>(
      `hive-terminal-pane[data-term-id="${pending}"]`,
    );
    if (!pane) return;
    this.focusPending = null;
    // The pane makes its xterm, and shows itself, in its own first update.
    void pane.updateComplete.then(() => pane.focus());
  }

  /**
   * Puts the keyboard in terminal `termId` once it is in front: a terminal just opened is listed only
   * when the server says so. Only a person's own action asks for this; a terminal opened or closed
   * elsewhere never takes the keyboard from where they are typing.
   */
  focusWhenShown(termId: string): void {
    this.focusPending = termId;
    this.requestUpdate();
  }

  /** Puts the keyboard in the shell in front. */
  focusActive(): void {
    this.renderRoot.querySelector<HiveTerminalPane>("hive-terminal-pane[active]")?.focus();
  }

  private onRenameKey(e: KeyboardEvent, termId: string): void {
    e.stopPropagation();
    if (e.key === "Enter") this.finishRename(termId, (e.target as HTMLInputElement).value);
    if (e.key === "Escape") this.renaming = null;
  }

  private finishRename(termId: string, name: string): void {
    if (this.renaming !== termId) return;
    this.renaming = null;
    this.emit("terminal-rename", { termId, name });
  }

  private openNew(kind: TerminalKind): void {
    this.emit("terminal-new", { kind });
  }

  private emit(type: string, detail: object): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-terminal-tabs": HiveTerminalTabs;
  }
}
