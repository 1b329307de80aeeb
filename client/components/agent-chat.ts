import DOMPurify from "dompurify";
import { css, html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { unsafeHTML } from "lit/directives/unsafe-html.js";
import { marked } from "marked";
import type {
  AgentActivity,
  AgentMessage,
  AgentMode,
  AgentPart,
  AgentSnapshot,
  AnswerInboxBody,
} from "../../shared/agents.ts";
import { plainText } from "../../shared/plain-output.ts";
import type { Cell } from "../../shared/records.ts";
import { hive } from "../context.ts";
import { loadDraft, saveDraft } from "../drafts.ts";
import { AgentStore } from "../stores/agent.ts";
import { buttonStyles } from "./styles.ts";
import "./waiting-inbox.ts";

/** Rendered markdown by source text: a streaming part re-renders only itself, finished ones never again. */
const markdownCache = new Map<string, string>();
const MARKDOWN_CACHE_MAX = 500;

function markdown(text: string): string {
  let out = markdownCache.get(text);
  if (out === undefined) {
    out = DOMPurify.sanitize(marked.parse(text, { async: false }));
    if (markdownCache.size >= MARKDOWN_CACHE_MAX) markdownCache.delete(markdownCache.keys().next().value!);
    markdownCache.set(text, out);
  }
  return out;
}

const STATUS_LABEL: Record<string, string> = {
  none: "no agent",
  starting: "starting",
  idle: "idle",
  working: "working",
  waiting: "waiting for input",
  error: "error",
};

/** Messages fetched per "Show earlier messages". */
const EARLIER_STEP = 50;

/** What the message box says: how to send, or why nothing can be sent yet. */
function composerHint(snap: { sessionId?: string | null; status: string }): string {
  if (snap.sessionId) return "Message the agent (Enter sends, Shift+Enter for a new line)";
  if (snap.status === "error") return "The agent could not start; its status above says why.";
  if (snap.status === "none") return "No agent runs in this cell.";
  return "The agent is starting…";
}

/**
 * A cell's agent: the transcript with text streaming in as it arrives, markdown rendered and sanitized,
 * tool calls with their inputs and results (collapsed; file edits link to the diff), errors, what the
 * agent waits for, a composer, Stop while it runs, and the build/plan mode. Fires `show-diff {path}`.
 */
@customElement("hive-agent-chat")
export class HiveAgentChat extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100%;
        background: var(--hive-panel);
        font-size: 14px;
      }
      header {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 6px 10px;
        border-bottom: 1px solid var(--hive-border);
        flex-wrap: wrap;
        container: agent-header / inline-size;
      }
      .status {
        font-weight: 600;
      }
      .status.working,
      .status.starting {
        color: var(--hive-running);
      }
      .status.waiting {
        color: var(--hive-warn);
      }
      .status.error {
        color: var(--hive-error);
      }
      .detail {
        color: var(--hive-muted);
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      /* A narrow pane would cut what the agent is doing ("Retrying…") to a letter: it gets its own line. */
      @container agent-header (max-width: 420px) {
        .detail:not(:empty) {
          order: 1;
          flex-basis: 100%;
        }
      }
      .log {
        flex: 1;
        overflow: auto;
        padding: 8px 12px;
      }
      .msg {
        margin: 0 0 12px;
        /* Paths and commit hashes are long words: they wrap rather than run out of the pane. */
        overflow-wrap: anywhere;
      }
      .msg.user {
        background: var(--hive-sunken);
        border-radius: var(--hive-radius);
        padding: 6px 10px;
        white-space: pre-wrap;
      }
      .role {
        font-size: 12px;
        color: var(--hive-muted);
      }
      button.earlier {
        display: block;
        margin: 0 auto 8px;
      }
      /* Sticks to the bottom of the visible log while the person reads further up. */
      button.latest {
        position: sticky;
        bottom: 4px;
        display: block;
        margin: 0 0 0 auto;
        box-shadow: 0 1px 4px rgb(0 0 0 / 0.2);
      }
      .text :first-child {
        margin-top: 0;
      }
      .text pre {
        overflow: auto;
        background: var(--hive-sunken);
        padding: 6px;
      }
      details.tool {
        border: 1px solid var(--hive-border);
        border-radius: var(--hive-radius);
        margin: 6px 0;
        padding: 4px 8px;
      }
      details.tool pre {
        white-space: pre-wrap;
        max-height: 240px;
        overflow: auto;
        font-family: var(--hive-mono);
        font-size: 12px;
      }
      .tool-error,
      .msg-error,
      .error {
        color: var(--hive-error);
      }
      .activity {
        margin: 0 0 8px;
        font-size: 12px;
        color: var(--hive-muted);
        font-family: var(--hive-mono);
      }
      .activity.failed {
        color: var(--hive-error);
      }
      .waiting {
        border: 1px solid var(--hive-warn);
        border-radius: var(--hive-radius);
        padding: 8px;
        margin: 8px 12px;
        display: grid;
        gap: 6px;
      }
      form {
        display: flex;
        align-items: flex-end;
        gap: 6px;
        padding: 8px 10px;
        border-top: 1px solid var(--hive-border);
      }
      textarea {
        flex: 1;
        resize: vertical;
        min-height: 2.5em;
        /* Grows with what is typed (a long brief stays readable), up to a part of the screen. */
        field-sizing: content;
        max-height: 40vh;
      }
      a {
        color: var(--hive-focus);
        cursor: pointer;
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  @state() private draft = "";
  @state() private fetchingEarlier = false;
  /** Scrolled up from the end: a button brings the person back to what the agent is doing now. */
  @state() private away = false;
  @query(".log") private log?: HTMLElement;
  private store: AgentStore | undefined;
  private offView: (() => void) | undefined;
  private stick = true;
  /** Tool calls opened whole, by part id and state: the snapshot holds a preview of long ones. */
  private readonly whole = new Map<string, AgentPart | "loading" | Error>();

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("cell") && this.store?.cellId !== this.cell?.id) this.attach();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Focusable by script (Alt+2) even while the composer is disabled.
    if (!this.hasAttribute("tabindex")) this.tabIndex = -1;
    if (this.cell && !this.store) this.attach();
  }

  /** Alt+2 lands in the composer, or on the chat itself while it cannot take a message. */
  override focus(options?: FocusOptions): void {
    const composer = this.renderRoot.querySelector("textarea");
    if (composer && !composer.disabled) composer.focus(options);
    else super.focus(options);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.detach();
  }

  /** One store per shown cell: a different cell means a different channel. */
  private attach(): void {
    this.detach();
    this.store = new AgentStore(hive.socket, this.cell.id);
    this.draft = loadDraft(this.cell.id, "chat");
    this.whole.clear();
    // Another cell's transcript opens at its end, whatever was scrolled in the last one.
    this.stick = true;
    this.away = false;
    this.offView = this.store.view.subscribe(() => this.requestUpdate());
    this.store.start();
  }

  private detach(): void {
    this.offView?.();
    this.store?.stop();
    this.store = undefined;
  }

  protected override updated(): void {
    if (this.stick && this.log) this.log.scrollTop = this.log.scrollHeight;
  }

  private async send(e: Event): Promise<void> {
    e.preventDefault();
    const text = this.draft.trim();
    if (!text || !this.store) return;
    const store = this.store;
    if (!(await store.send(text))) return;
    // Only what was sent is cleared: words typed while it was on its way stay.
    if (loadDraft(store.cellId, "chat").trim() === text) saveDraft(store.cellId, "chat", "");
    if (this.store === store && this.draft.trim() === text) this.draft = "";
  }

  override render() {
    const view = this.store?.view.value;
    const snap = view?.snapshot;
    if (!snap) return html`<div class="log">Loading the agent…</div>`;
    const running = snap.status === "working" || snap.status === "waiting";
    return html`
      <header>
        <span class="status ${snap.status}" data-status=${snap.status}>${STATUS_LABEL[snap.status]}</span>
        <span class="detail" title=${snap.detail ?? ""}>${snap.detail ?? (snap.model ? `${snap.model.providerId}/${snap.model.modelId}` : "")}</span>
        <select
          aria-label="Agent mode"
          .value=${snap.mode}
          @change=${(e: Event) => void this.store?.setMode((e.target as HTMLSelectElement).value as AgentMode)}
        >
          <option value="build">build</option>
          <option value="plan">plan</option>
        </select>
        ${running ? html`<button class="danger" @click=${() => void this.store?.abort()}>Stop</button>` : nothing}
      </header>
      <div
        class="log"
        @scroll=${(e: Event) => {
          const el = e.target as HTMLElement;
          this.stick = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (this.away === this.stick) this.away = !this.stick;
        }}
      >
        ${snap.messages.length === 0 ? html`<p class="role">No messages yet. Ask the agent something below.</p>` : nothing}
        ${
          snap.earlier
            ? html`<button class="earlier" ?disabled=${this.fetchingEarlier} @click=${() => void this.showEarlier()}>
                ${this.fetchingEarlier ? "Fetching earlier messages…" : "Show earlier messages"}
              </button>`
            : nothing
        }
        ${repeat(
          timeline(snap),
          (item) => ("role" in item ? `m:${item.id}` : `a:${item.id}`),
          (item) => ("role" in item ? this.message(item) : this.activityLine(item)),
        )}
        ${
          this.away
            ? html`<button class="latest" @click=${() => this.toLatest()}>
                ${running ? "↓ Follow the agent" : "↓ Latest"}
              </button>`
            : nothing
        }
      </div>
      ${snap.waiting.map(
        (item) => html`<div class="waiting" role="alert">
          <strong>Waiting for you</strong>
          <span>${item.title}</span>
          <hive-waiting-answer
            .item=${item}
            @answer=${(e: CustomEvent<{ id: string; body: AnswerInboxBody }>) =>
              void this.store?.answer(e.detail.id, e.detail.body)}
          ></hive-waiting-answer>
        </div>`,
      )}
      ${view?.error ? html`<p class="error" role="status">${view.error}</p>` : nothing}
      <form @submit=${this.send}>
        <textarea
          aria-label="Message to the agent"
          placeholder=${composerHint(snap)}
          .value=${this.draft}
          ?disabled=${!snap.sessionId}
          @input=${(e: Event) => {
            this.draft = (e.target as HTMLTextAreaElement).value;
            saveDraft(this.cell.id, "chat", this.draft);
          }}
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === "Enter" && !e.shiftKey) void this.send(e);
          }}
        ></textarea>
        <button class="primary" type="submit" ?disabled=${!snap.sessionId || !this.draft.trim()}>Send</button>
      </form>
    `;
  }

  private message(m: AgentMessage) {
    if (m.role === "user") {
      const text = m.parts
        .filter((p) => p.type === "text" && !(p as { synthetic?: boolean }).synthetic)
        .map((p) => p.text)
        .join("\n");
      return html`<div class="msg user" data-role="user">${text}</div>`;
    }
    return html`<div class="msg assistant" data-role="assistant">
      ${m.parts.map((p) => this.renderPart(p))}
      ${m.error ? html`<p class="msg-error">${m.error}</p>` : nothing}
    </div>`;
  }

  /** A call the agent made to one of Hive's tools (services, logs, restart), as the cell's activity recorded it. */
  private activityLine(a: AgentActivity) {
    return html`<div class="activity ${a.ok ? "" : "failed"}" data-activity=${a.tool} title=${a.at}>
      ⚙ ${a.tool}: ${a.summary}
    </div>`;
  }

  private renderPart(p: AgentPart) {
    if (p.type === "text") return html`<div class="text">${unsafeHTML(markdown(p.text ?? ""))}</div>`;
    if (p.type === "reasoning") {
      return html`<details><summary class="role">thinking</summary><div class="text">${p.text ?? ""}</div></details>`;
    }
    if (p.type !== "tool") return nothing;
    const st = p.state;
    const input = (st?.input ?? {}) as { filePath?: string };
    const file =
      input.filePath && this.cell.worktreePath
        ? relativeTo(this.cell.worktreePath, input.filePath)
        : undefined;
    const key = `${p.id}:${st?.status}`;
    const whole = this.whole.get(key);
    const shown = typeof whole === "object" && !(whole instanceof Error) ? whole.state : st;
    return html`<details
      class="tool"
      data-tool=${p.tool ?? ""}
      data-state=${st?.status ?? ""}
      @toggle=${(e: Event) => {
        // Fetched once; a fetch that failed is tried again at the next opening.
        const retry = !whole || whole instanceof Error;
        if ((e.target as HTMLDetailsElement).open && st?.cut && retry) void this.loadWhole(p, key);
      }}
    >
      <summary>
        <strong>${p.tool}</strong> ${st?.title ?? ""} <span class="role">${st?.status ?? ""}</span>
        ${
          file && (p.tool === "write" || p.tool === "edit")
            ? html`<a
                @click=${(e: Event) => {
                  e.preventDefault();
                  this.dispatchEvent(
                    new CustomEvent("show-diff", { detail: { path: file }, bubbles: true, composed: true }),
                  );
                }}
                >diff of ${file}</a
              >`
            : nothing
        }
      </summary>
      <pre>${JSON.stringify(shown?.input ?? {}, null, 2)}</pre>
      ${shown?.output !== undefined ? html`<pre>${plainText(String(shown.output))}</pre>` : nothing}
      ${shown?.error !== undefined ? html`<pre class="tool-error">${plainText(String(shown.error))}</pre>` : nothing}
      ${shown?.cut ? html`<p class="role cut">${cutNote(shown.cut, whole)}</p>` : nothing}
    </details>`;
  }

  /** Back to the end of the transcript, following it again as it grows. */
  private toLatest(): void {
    this.stick = true;
    this.away = false;
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  }

  private async showEarlier(): Promise<void> {
    this.fetchingEarlier = true;
    // The earlier messages go above: the one the person was reading stays where it was on screen.
    const fromBottom = this.log ? this.log.scrollHeight - this.log.scrollTop : 0;
    await this.store?.showEarlier(EARLIER_STEP);
    this.fetchingEarlier = false;
    await this.updateComplete;
    if (this.log) this.log.scrollTop = this.log.scrollHeight - fromBottom;
  }

  private async loadWhole(p: AgentPart, key: string): Promise<void> {
    this.whole.set(key, "loading");
    this.requestUpdate();
    try {
      this.whole.set(key, await this.store!.wholePart(p.messageID ?? "", p.id));
    } catch (e) {
      this.whole.set(key, e as Error);
    }
    this.requestUpdate();
  }
}

function cutNote(
  cut: NonNullable<AgentPart["state"]>["cut"],
  whole: AgentPart | "loading" | Error | undefined,
) {
  if (whole === "loading") return "Loading the rest…";
  if (whole instanceof Error) return `The rest could not be loaded: ${whole.message}`;
  const what = [
    cut?.output !== undefined ? `the output (${cut.output.toLocaleString()} characters)` : "",
    cut?.input ? cut.input.join(", ") : "",
  ].filter(Boolean);
  return `Shortened: ${what.join(" and ")}.`;
}

/** Messages and Hive tool calls in the order they happened: a call shows after the message that made it. */
function timeline(snap: AgentSnapshot): (AgentMessage | AgentActivity)[] {
  const items: { at: number; item: AgentMessage | AgentActivity }[] = [
    ...snap.messages.map((m) => ({ at: m.createdAt, item: m })),
    ...snap.activity.map((a) => ({ at: Date.parse(a.at), item: a })),
  ];
  return items.sort((x, y) => x.at - y.at).map((x) => x.item);
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
