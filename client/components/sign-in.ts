import { css, html, LitElement } from "lit";
import { customElement } from "lit/decorators.js";

/** What a tab without a valid session sees: how to get one, never a blank page. */
@customElement("hive-sign-in")
export class HiveSignIn extends LitElement {
  static override styles = css`
    :host {
      display: grid;
      place-items: center;
      height: 100%;
      padding: 24px;
      box-sizing: border-box;
    }
    main {
      max-width: 520px;
      background: var(--hive-panel);
      border: 1px solid var(--hive-border);
      border-radius: 10px;
      padding: 24px 28px;
    }
    h1 {
      font-size: 20px;
      margin: 0 0 10px;
    }
    code {
      font-family: var(--hive-mono);
      background: var(--hive-sunken);
      padding: 1px 5px;
      border-radius: 4px;
    }
    p {
      line-height: 1.5;
    }
  `;

  override render() {
    return html`<main>
      <h1>Sign in to Hive</h1>
      <p>This tab has no valid session. Open the link printed by <code>hive</code> when it started (it looks like
        <code>${location.origin}/auth?token=…</code>); it signs this browser in.</p>
      <p>Lost it? Run <code>hive token --rotate</code> on the machine running Hive to print a new one.</p>
    </main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-sign-in": HiveSignIn;
  }
}
