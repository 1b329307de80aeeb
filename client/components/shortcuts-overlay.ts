import { css, html, LitElement } from "lit";
import { customElement, property } from "lit/decorators.js";
import { SHORTCUTS, TERMINAL_KEYS } from "../shortcuts.ts";
import { buttonStyles } from "./styles.ts";

const keyTable = (rows: { keys: string[]; label: string }[]) =>
  html`<table>
    ${rows.map(
      (s) => html`<tr>
        <td>${s.keys.map((k) => html`<kbd>${k}</kbd> `)}</td>
        <td>${s.label}</td>
      </tr>`,
    )}
  </table>`;

/** The `?` overlay: every keyboard shortcut. Event up: `close`. */
@customElement("hive-shortcuts")
export class HiveShortcuts extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        position: fixed;
        inset: 0;
        display: grid;
        place-items: center;
        background: rgb(0 0 0 / 0.4);
        z-index: 20;
      }
      div[role="dialog"] {
        background: var(--hive-panel);
        border: 1px solid var(--hive-border);
        border-radius: 10px;
        padding: 18px 22px;
        min-width: 340px;
        max-width: 90vw;
        box-shadow: 0 10px 40px rgb(0 0 0 / 0.3);
      }
      h2 {
        margin: 0 0 12px;
        font-size: 16px;
      }
      h3 {
        margin: 14px 0 6px;
        font-size: 13px;
        color: var(--hive-muted);
      }
      table {
        border-collapse: collapse;
        width: 100%;
      }
      td {
        padding: 5px 8px;
      }
      td:first-child {
        white-space: nowrap;
      }
      .close {
        margin-top: 12px;
        text-align: right;
      }
    `,
  ];

  @property({ type: Boolean }) open = false;

  override render() {
    return html`<div role="dialog" aria-modal="true" aria-labelledby="t" @click=${(e: Event) => e.stopPropagation()}>
      <h2 id="t">Keyboard shortcuts</h2>
      ${keyTable(SHORTCUTS)}
      <h3>In a terminal</h3>
      ${keyTable(TERMINAL_KEYS)}
      <div class="close"><button @click=${this.close}>Close</button></div>
    </div>`;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener("click", this.close);
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector("button")?.focus();
  }

  private close = () => this.dispatchEvent(new CustomEvent("close", { bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-shortcuts": HiveShortcuts;
  }
}
