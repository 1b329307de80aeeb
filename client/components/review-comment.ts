import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query, state } from "lit/decorators.js";
import type { ReviewComment } from "../../shared/diffs.ts";
import { buttonStyles } from "./styles.ts";

/**
 * One review comment, shown under its line inside the diff and again in the pane's list: its text, whether
 * it is outdated or was sent, and Resolve / Edit / Delete right there. Events up (bubbling, composed):
 * `comment-resolve {id, resolved}`, `comment-edit {id, body}`, `comment-delete {id}`, `comment-reveal {line, side}`.
 */
@customElement("hive-review-comment")
export class HiveReviewComment extends LitElement {
  static override styles = [buttonStyles, commentStyles()];

  @property({ attribute: false }) comment!: ReviewComment;
  /** Inside the diff (under its line) rather than in the list below it. */
  @property({ type: Boolean, reflect: true }) inline = false;
  @state() private editing = false;
  @query("textarea") private textarea: HTMLTextAreaElement | undefined;

  override render() {
    const c = this.comment;
    if (!c) return nothing;
    return html`<div class="box ${c.resolved ? "resolved" : ""}" data-comment=${c.id} data-line=${c.line}>
      <div class="meta">
        ${
          this.inline
            ? html`<span class="muted">line ${c.line}${c.side === "old" ? " (old)" : ""}</span>`
            : html`<a class="link" @click=${() => emit(this, "comment-reveal", { line: c.line, side: c.side })}
                >line ${c.line}${c.side === "old" ? " (old)" : ""}</a
              >`
        }
        ${c.outdated ? html`<span class="tag">outdated</span>` : nothing}
        ${c.resolved ? html`<span class="tag">resolved</span>` : nothing}
        ${c.sentAt ? html`<span class="tag">sent to agent</span>` : nothing}
        <span class="grow"></span>
        <button @click=${() => emit(this, "comment-resolve", { id: c.id, resolved: !c.resolved })}>
          ${c.resolved ? "Unresolve" : "Resolve"}
        </button>
        ${this.editing ? nothing : html`<button @click=${() => (this.editing = true)}>Edit</button>`}
        <button class="danger" @click=${() => emit(this, "comment-delete", { id: c.id })} aria-label="Delete comment">
          ✕
        </button>
      </div>
      ${
        this.editing
          ? html`<textarea
                aria-label="Edit comment on line ${c.line}"
                .value=${c.body}
                @keydown=${(e: KeyboardEvent) => {
                  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) this.save();
                  if (e.key === "Escape") this.editing = false;
                }}
              ></textarea>
              <div class="actions">
                <button class="primary" @click=${() => this.save()}>Save</button>
                <button @click=${() => (this.editing = false)}>Cancel</button>
              </div>`
          : html`<p>${c.body}</p>`
      }
    </div>`;
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has("editing") && this.editing) this.textarea?.focus();
  }

  private save(): void {
    const body = this.textarea?.value.trim();
    if (!body) return;
    if (body !== this.comment.body) emit(this, "comment-edit", { id: this.comment.id, body });
    this.editing = false;
  }
}

/**
 * The form for a new comment, opened under the line whose number was clicked. Events up: `comment-add
 * {body}`, `comment-cancel`, `comment-draft {body}` as it is typed.
 */
@customElement("hive-comment-form")
export class HiveCommentForm extends LitElement {
  static override styles = [buttonStyles, commentStyles()];

  @property({ type: Number }) line = 0;
  @property() side: "old" | "new" = "new";
  /** What was typed before (the form is made again when its file is shown again). */
  @property() body = "";
  /**
   * Opened by a click, so it takes the keyboard; one brought back with its text (a reload, another
   * cell shown and back) does not take it from where the person is.
   */
  @property({ type: Boolean }) takeFocus = false;
  @query("textarea") private textarea!: HTMLTextAreaElement;

  override render() {
    return html`<div class="box draft">
      <label for="draft">Comment on line ${this.line}${this.side === "old" ? " (old side)" : ""}</label>
      <textarea
        id="draft"
        .value=${this.body}
        @input=${() => emit(this, "comment-draft", { body: this.textarea.value })}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) this.add();
          if (e.key === "Escape") emit(this, "comment-cancel", {});
        }}
      ></textarea>
      <div class="actions">
        <button class="primary" @click=${() => this.add()}>Comment</button>
        <button @click=${() => emit(this, "comment-cancel", {})}>Cancel</button>
      </div>
    </div>`;
  }

  override firstUpdated(): void {
    if (this.takeFocus) this.textarea.focus();
  }

  private add(): void {
    const body = this.textarea.value.trim();
    if (body) emit(this, "comment-add", { body });
  }
}

function emit(from: HTMLElement, type: string, detail: object): void {
  from.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

function commentStyles() {
  return css`
    :host {
      display: block;
      font-size: 13px;
      font-family: var(--hive-font, system-ui, sans-serif);
      color: var(--hive-text);
    }
    .box {
      padding: 6px 8px;
      border-bottom: 1px solid var(--hive-border);
      display: flex;
      flex-direction: column;
      gap: 4px;
      background: var(--hive-panel);
    }
    :host([inline]) .box {
      margin: 2px 12px 2px 4px;
      border: 1px solid var(--hive-border);
      border-left: 3px solid var(--hive-accent, #36c);
      border-radius: var(--hive-radius, 4px);
      white-space: normal;
    }
    .box.resolved {
      opacity: 0.65;
      border-left-color: var(--hive-muted, #888);
    }
    .meta,
    .actions {
      display: flex;
      gap: 6px;
      align-items: center;
      font-size: 12px;
    }
    .grow {
      flex: 1;
    }
    .meta > * {
      white-space: nowrap;
    }
    .muted,
    .tag {
      color: var(--hive-muted);
    }
    .tag {
      border: 1px solid var(--hive-border);
      border-radius: 8px;
      padding: 0 6px;
    }
    p {
      margin: 0;
      white-space: pre-wrap;
    }
    textarea {
      width: 100%;
      box-sizing: border-box;
      min-height: 56px;
      resize: vertical;
      font: inherit;
    }
    button {
      padding: 2px 8px;
    }
    a.link {
      cursor: pointer;
      text-decoration: underline;
    }
  `;
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-review-comment": HiveReviewComment;
    "hive-comment-form": HiveCommentForm;
  }
}
