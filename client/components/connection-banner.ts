import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { ConnectionState } from "../socket.ts";
import { buttonStyles } from "./styles.ts";

/** Shows that the live connection is down and when it is retried. Event up: `retry-now`. */
@customElement("hive-connection-banner")
export class HiveConnectionBanner extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
      }
      div {
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 6px 14px;
        background: var(--hive-warn);
        color: #fff;
        font-weight: 600;
      }
      button {
        padding: 2px 10px;
        font-size: 12px;
      }
    `,
  ];

  @property({ attribute: false }) connection: ConnectionState = { kind: "open" };
  /** Whether the socket was ever up in this tab (a drop is then "lost", not "cannot reach"). */
  @property({ type: Boolean }) everConnected = false;
  @state() private now = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  override render() {
    const c = this.connection;
    if (c.kind === "open" || c.kind === "unauthorized") return nothing;
    // A first connect that fails once is routine; one that keeps failing means Hive is not reachable.
    if (!this.everConnected && (c.kind !== "reconnecting" || c.attempt < 2)) return nothing;
    const secs = c.kind === "reconnecting" ? Math.max(0, Math.ceil((c.retryAt - this.now) / 1000)) : 0;
    const lead = this.everConnected ? "Connection to Hive lost" : `Cannot reach Hive at ${location.host}`;
    const text =
      c.kind === "reconnecting"
        ? `${lead} (${c.reason}). Reconnecting${secs ? ` in ${secs} s` : "…"}`
        : "Reconnecting to Hive…";
    return html`<div role="alert" data-connection=${c.kind}>
      <span>${text}</span>
      <button @click=${() => this.dispatchEvent(new CustomEvent("retry-now", { bubbles: true, composed: true }))}>
        Retry now
      </button>
    </div>`;
  }

  override updated(): void {
    const down = this.connection.kind === "reconnecting";
    if (down && !this.timer) this.timer = setInterval(() => (this.now = Date.now()), 500);
    if (!down && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-connection-banner": HiveConnectionBanner;
  }
}
