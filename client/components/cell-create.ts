import { css, html, LitElement, nothing, type PropertyValues } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { Template } from "../../shared/config.ts";
import type { TemplatesResponse, Workspace } from "../../shared/records.ts";
import { buttonStyles } from "./styles.ts";

export interface CreateCellDetail {
  workspaceId: string;
  templateId: string;
  name: string;
  description: string;
}

/**
 * The new-cell form: a template picker (label, description, the services it starts, its setup
 * commands), a name and the agent's brief. When hive.config.json is broken it lists the problems,
 * each with its key path and line, instead of the picker. Events up: `create-cell`, `reload-templates`.
 */
@customElement("hive-cell-create")
export class HiveCellCreate extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
        padding: 24px 28px;
        max-width: 860px;
        overflow: auto;
        box-sizing: border-box;
      }
      h1 {
        font-size: 20px;
        margin: 0 0 4px;
      }
      .sub {
        color: var(--hive-muted);
        margin: 0 0 18px;
      }
      fieldset {
        border: none;
        padding: 0;
        margin: 0 0 16px;
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
        gap: 10px;
      }
      legend,
      label {
        font-weight: 600;
        margin-bottom: 6px;
        display: block;
      }
      .tpl {
        display: block;
        border: 1px solid var(--hive-border);
        border-radius: var(--hive-radius);
        padding: 10px 12px;
        background: var(--hive-panel);
        cursor: pointer;
        font-weight: normal;
        margin: 0;
      }
      .tpl:has(input:checked) {
        border-color: var(--hive-accent);
        box-shadow: 0 0 0 1px var(--hive-accent);
      }
      .tpl input {
        margin: 0 6px 0 0;
      }
      .tpl .title {
        font-weight: 600;
      }
      .tpl p {
        margin: 4px 0;
        color: var(--hive-muted);
        font-size: 13px;
      }
      .tpl ul {
        margin: 4px 0 0;
        padding-left: 18px;
        font-size: 12px;
        font-family: var(--hive-mono);
        color: var(--hive-muted);
      }
      .tpl .k {
        font-family: var(--hive-font);
        font-size: 11px;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--hive-muted);
        margin-top: 6px;
      }
      .field {
        margin-bottom: 14px;
      }
      .field input,
      .field textarea {
        width: 100%;
      }
      textarea {
        min-height: 110px;
        resize: vertical;
        field-sizing: content;
        max-height: 50vh;
      }
      .problems {
        border: 1px solid var(--hive-error);
        border-radius: var(--hive-radius);
        background: var(--hive-panel);
        padding: 12px 14px;
        margin-bottom: 16px;
      }
      .problems h2 {
        font-size: 15px;
        margin: 0 0 8px;
        color: var(--hive-error);
      }
      .problems li {
        margin: 4px 0;
      }
      code {
        font-family: var(--hive-mono);
        font-size: 12px;
        background: var(--hive-sunken);
        padding: 1px 4px;
        border-radius: 4px;
      }
      .actions {
        display: flex;
        gap: 8px;
        align-items: center;
      }
    `,
  ];

  @property({ attribute: false }) workspace: Workspace | undefined;
  @property({ attribute: false }) templates: TemplatesResponse | undefined;
  @property() loadError: string | undefined;
  @property() submitError: string | undefined;
  @property({ type: Boolean }) busy = false;
  @state() private templateId = "";
  @state() private name = "";
  @state() private description = "";

  override render() {
    const ws = this.workspace;
    if (!ws) return html`<p>Unknown workspace.</p>`;
    return html`
      <h1>New cell</h1>
      <p class="sub">in <strong>${ws.name}</strong> <code>${ws.path}</code></p>
      ${this.body()}
    `;
  }

  override willUpdate(): void {
    const t = this.templates;
    if (t && !t.templates.some((x) => x.id === this.templateId)) {
      this.templateId = t.defaultTemplateId ?? t.templates[0]?.id ?? "";
    }
  }

  override updated(changed: PropertyValues<this>): void {
    // The name field appears once templates arrive: that is when the keyboard should land in it.
    if (changed.has("templates") && !this.name)
      this.renderRoot.querySelector<HTMLInputElement>("#name")?.focus();
  }

  private body() {
    if (this.loadError) return this.reloadable(html`<p class="error" role="alert">${this.loadError}</p>`);
    const t = this.templates;
    if (!t) return html`<p class="sub">Loading templates…</p>`;
    if (t.errors?.length) {
      return this.reloadable(html`<section class="problems" role="alert">
        <h2>hive.config.json has ${t.errors.length === 1 ? "a problem" : `${t.errors.length} problems`}</h2>
        <ul>
          ${t.errors.map(
            (e) =>
              html`<li data-config-error>
                <code>${e.path || "(root)"}</code>${e.line ? html` at line ${e.line}${e.column ? `:${e.column}` : ""}` : ""}:
                ${e.message}
              </li>`,
          )}
        </ul>
        <p>Fix the file: this form follows it each time it is saved.</p>
      </section>`);
    }
    return html`<form @submit=${this.onSubmit}>
      <fieldset>
        <legend>Template</legend>
        ${t.templates.map((tpl) => this.templateCard(tpl))}
      </fieldset>
      <div class="field">
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          required
          maxlength="120"
          placeholder="fix-login-redirect"
          .value=${this.name}
          @input=${(e: InputEvent) => {
            this.name = (e.target as HTMLInputElement).value;
          }}
        />
      </div>
      <div class="field">
        <label for="description">Brief for the agent <span class="sub">(optional)</span></label>
        <textarea
          id="description"
          name="description"
          placeholder="What should be done in this cell?"
          .value=${this.description}
          @input=${(e: InputEvent) => {
            this.description = (e.target as HTMLTextAreaElement).value;
          }}
        ></textarea>
      </div>
      ${this.submitError ? html`<p class="error" role="alert">${this.submitError}</p>` : nothing}
      <div class="actions">
        <button class="primary" type="submit" ?disabled=${this.busy || !this.name.trim() || !this.templateId}>
          ${this.busy ? "Creating…" : "Create cell"}
        </button>
      </div>
    </form>`;
  }

  private reloadable(content: unknown) {
    return html`${content}
      <div class="actions">
        <button @click=${() => this.dispatchEvent(new CustomEvent("reload-templates", { bubbles: true, composed: true }))}>
          Check again
        </button>
      </div>`;
  }

  private templateCard(tpl: Template) {
    const services = Object.entries(tpl.services);
    return html`<label class="tpl" data-template-id=${tpl.id}>
      <input
        type="radio"
        name="template"
        .value=${tpl.id}
        .checked=${tpl.id === this.templateId}
        @change=${() => {
          this.templateId = tpl.id;
        }}
      />
      <span class="title">${tpl.label}</span>
      ${tpl.description ? html`<p>${tpl.description}</p>` : nothing}
      ${
        services.length
          ? html`<div class="k">Services</div>
            <ul>
              ${services.map(([name, s]) => html`<li>${name}: ${s.run}</li>`)}
            </ul>`
          : nothing
      }
      ${
        tpl.setup.length
          ? html`<div class="k">Setup</div>
            <ul>
              ${tpl.setup.map((s) => html`<li>${typeof s === "string" ? s : s.run}</li>`)}
            </ul>`
          : nothing
      }
    </label>`;
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    if (!this.workspace || !this.templateId || !this.name.trim()) return;
    const detail: CreateCellDetail = {
      workspaceId: this.workspace.id,
      templateId: this.templateId,
      name: this.name.trim(),
      description: this.description,
    };
    this.dispatchEvent(new CustomEvent("create-cell", { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-cell-create": HiveCellCreate;
  }
}
