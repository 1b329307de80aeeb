import { css, html, LitElement, nothing } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { AnswerInboxBody, InboxItem } from "../../shared/agents.ts";
import { hive } from "../context.ts";
import { StoreController } from "../store.ts";
import { InboxStore } from "../stores/inbox.ts";
import { buttonStyles } from "./styles.ts";

/** How long ago, in a few characters: "12 s", "4 min", "2 h". */
export function waitedFor(askedAt: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(askedAt)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/**
 * The answer controls of one waiting item: allow once / always / deny for a permission, the choices
 * or a typed answer for a question. Fires `answer` with an AnswerInboxBody and the item id.
 */
@customElement("hive-waiting-answer")
export class HiveWaitingAnswer extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
        align-items: center;
      }
      input {
        flex: 1;
        min-width: 10em;
      }
    `,
  ];

  @property({ attribute: false }) item!: InboxItem;
  @state() private typed = "";

  private answer(body: AnswerInboxBody): void {
    this.dispatchEvent(
      new CustomEvent("answer", { detail: { id: this.item.id, body }, bubbles: true, composed: true }),
    );
  }

  override render() {
    if (this.item.kind === "permission") {
      return html`
        <button class="primary" @click=${() => this.answer({ reply: "once" })}>Allow once</button>
        <button @click=${() => this.answer({ reply: "always" })}>Always allow</button>
        <button class="danger" @click=${() => this.answer({ reply: "reject" })}>Deny</button>
      `;
    }
    return html`
      ${this.item.options.map((o) => html`<button @click=${() => this.answer({ answers: [[o]] })}>${o}</button>`)}
      <input
        placeholder="Type an answer"
        .value=${this.typed}
        @input=${(e: Event) => {
          this.typed = (e.target as HTMLInputElement).value;
        }}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === "Enter" && this.typed.trim()) this.answer({ answers: [[this.typed.trim()]] });
        }}
      />
      <button class="danger" @click=${() => this.answer({ reply: "reject" })}>Dismiss</button>
    `;
  }
}

const inbox = new InboxStore(hive.socket);

/**
 * "Waiting for you": every agent, across cells, that asked permission or a question, with how long it
 * has waited; answer right here, or open the cell. A browser notification when the tab is hidden, once
 * the person allowed them.
 */
@customElement("hive-waiting-inbox")
export class HiveWaitingInbox extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        position: fixed;
        top: 8px;
        right: 12px;
        z-index: 20;
        font-size: 14px;
      }
      .badge {
        background: var(--hive-warn);
        color: var(--hive-accent-text);
        border: none;
        font-weight: 600;
      }
      .panel {
        margin-top: 6px;
        width: min(460px, 90vw);
        max-height: 70vh;
        overflow: auto;
        background: var(--hive-panel);
        border: 1px solid var(--hive-border);
        border-radius: var(--hive-radius);
        box-shadow: 0 6px 24px rgb(0 0 0 / 0.2);
        padding: 8px;
      }
      .item {
        padding: 8px;
        border-bottom: 1px solid var(--hive-border);
        display: grid;
        gap: 6px;
      }
      .item:last-child {
        border-bottom: none;
      }
      .head {
        display: flex;
        justify-content: space-between;
        gap: 8px;
        color: var(--hive-muted);
      }
      .title {
        white-space: pre-wrap;
        font-family: var(--hive-mono);
        font-size: 13px;
      }
      a {
        color: var(--hive-focus);
        cursor: pointer;
      }
    `,
  ];

  @state() private open = false;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    new StoreController(this, () => [inbox.items, inbox.error]);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    inbox.start();
    inbox.onAdded = (item) => this.notify(item);
    // "How long" moves on even when nothing else changes.
    this.ticker = setInterval(() => this.requestUpdate(), 10_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.ticker);
    inbox.onAdded = undefined;
  }

  private notify(item: InboxItem): void {
    if (typeof Notification === "undefined" || Notification.permission !== "granted" || !document.hidden)
      return;
    const n = new Notification(`${item.cellName} is waiting for you`, { body: item.title, tag: item.id });
    n.onclick = () => {
      window.focus();
      hive.router.go({ name: "cell", cellId: item.cellId });
    };
  }

  override render() {
    const items = inbox.items.value;
    if (items.length === 0) return nothing;
    const canAsk = typeof Notification !== "undefined" && Notification.permission === "default";
    return html`
      <button class="badge" aria-expanded=${this.open} @click=${() => (this.open = !this.open)}>
        Waiting for you: ${items.length}
      </button>
      ${
        this.open
          ? html`<div class="panel" role="list" aria-label="Agents waiting for you">
            ${inbox.error.value ? html`<p class="error">${inbox.error.value}</p>` : nothing}
            ${items.map(
              (item) => html`<div class="item" role="listitem">
                <div class="head">
                  <a @click=${() => hive.router.go({ name: "cell", cellId: item.cellId })}>${item.cellName}</a>
                  <span title=${item.askedAt}>waiting ${waitedFor(item.askedAt)}</span>
                </div>
                <div class="title">${item.title}</div>
                <hive-waiting-answer
                  .item=${item}
                  @answer=${(e: CustomEvent<{ id: string; body: AnswerInboxBody }>) =>
                    void inbox.answer(e.detail.id, e.detail.body)}
                ></hive-waiting-answer>
              </div>`,
            )}
            ${
              canAsk
                ? html`<button @click=${() => void Notification.requestPermission().then(() => this.requestUpdate())}>
                  Notify me when an agent waits
                </button>`
                : nothing
            }
          </div>`
          : nothing
      }
    `;
  }
}
