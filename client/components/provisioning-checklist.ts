import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { plainText } from "../../shared/plain-output.ts";
import type { Cell, ChecklistStep } from "../../shared/records.ts";
import { buttonStyles, formatDuration, statusBadge, statusStyles } from "./styles.ts";

/** Running steps show a live duration; a repaint this often looks continuous without costing much. */
const TICK_MS = 200;

const ICON: Record<ChecklistStep["state"], string> = {
  done: "✓",
  running: "◌",
  pending: "○",
  failed: "✕",
  skipped: "–",
};

/**
 * A cell being made (or failing to be): every step with its state and duration, the running one's
 * live detail, and on failure the step, the output tail and Retry / Delete (events `cell-retry`,
 * `cell-delete`).
 */
@customElement("hive-provisioning-checklist")
export class HiveProvisioningChecklist extends LitElement {
  static override styles = [
    buttonStyles,
    statusStyles,
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
        display: flex;
        gap: 10px;
        align-items: center;
      }
      .sub {
        color: var(--hive-muted);
        margin: 0 0 18px;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0;
        border: 1px solid var(--hive-border);
        border-radius: var(--hive-radius);
        background: var(--hive-panel);
      }
      li {
        display: grid;
        grid-template-columns: 22px 1fr auto;
        gap: 2px 10px;
        padding: 9px 14px;
        border-top: 1px solid var(--hive-border);
        align-items: baseline;
      }
      li:first-child {
        border-top: none;
      }
      .icon {
        font-weight: 700;
        text-align: center;
      }
      li[data-state="done"] .icon {
        color: var(--hive-ok);
      }
      li[data-state="running"] .icon {
        color: var(--hive-running);
        animation: spin 1.2s linear infinite;
        display: inline-block;
      }
      li[data-state="failed"] .icon,
      li[data-state="failed"] .label {
        color: var(--hive-error);
      }
      li[data-state="pending"],
      li[data-state="skipped"] {
        color: var(--hive-muted);
      }
      .dur {
        font-variant-numeric: tabular-nums;
        color: var(--hive-muted);
        font-size: 12px;
      }
      .detail {
        grid-column: 2 / 4;
        font-family: var(--hive-mono);
        font-size: 12px;
        color: var(--hive-muted);
        white-space: pre-wrap;
        word-break: break-word;
      }
      .nongating {
        font-size: 11px;
        color: var(--hive-muted);
        margin-left: 6px;
      }
      .failure {
        margin-top: 18px;
        border: 1px solid var(--hive-error);
        border-radius: var(--hive-radius);
        padding: 12px 14px;
        background: var(--hive-panel);
      }
      .failure h2 {
        font-size: 15px;
        margin: 0 0 8px;
        color: var(--hive-error);
      }
      pre {
        margin: 0 0 12px;
        max-height: 320px;
        overflow: auto;
        background: var(--hive-sunken);
        padding: 10px;
        border-radius: var(--hive-radius);
        font-family: var(--hive-mono);
        font-size: 12px;
        white-space: pre-wrap;
        word-break: break-word;
      }
      .actions {
        display: flex;
        gap: 8px;
        align-items: center;
      }
      .hint {
        color: var(--hive-muted);
        font-size: 12px;
      }
      .live {
        margin-top: 14px;
      }
      .live pre {
        max-height: 200px;
      }
      .live h2 {
        font-size: 12px;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--hive-muted);
        margin: 0 0 6px;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        li[data-state="running"] .icon {
          animation: none;
        }
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  @property({ attribute: false }) steps: ChecklistStep[] = [];
  /** Tail of the running or failed step's output. */
  @property() output = "";
  @property({ type: Boolean }) busy = false;
  @property() actionError: string | undefined;

  private tick: ReturnType<typeof setInterval> | undefined;
  /** The live output follows new lines while it is scrolled to its end (the person has not scrolled up). */
  private followLive = true;
  /** The failure output last scrolled to its end. */
  private failureShown: string | null = null;

  override render() {
    const c = this.cell;
    const failed =
      this.steps.find((s) => s.state === "failed" && s.step === c.currentStep) ??
      this.steps.find((s) => s.state === "failed" && s.gatesReady);
    const running = this.steps.find((s) => s.state === "running" && s.gatesReady);
    return html`
      <h1>${c.name} ${statusBadge(c.status)}</h1>
      <p class="sub">${c.status === "deleting" ? "Removing this cell…" : this.subtitle(c)}</p>
      <ol aria-label="Provisioning steps">
        ${this.steps.map((s) => this.line(s))}
      </ol>
      ${c.status === "error" ? this.failure(failed) : nothing}
      ${
        running && this.output && c.status !== "error"
          ? html`<section class="live" aria-label="Output of ${running.label}">
            <h2>Output</h2>
            <pre>${plainText(this.output)}</pre>
          </section>`
          : nothing
      }
    `;
  }

  /** Where the live output is scrolled, read before new output lands in it (scroll events come a frame late). */
  override willUpdate(): void {
    const pre = this.renderRoot?.querySelector<HTMLElement>(".live pre");
    this.followLive = !pre || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  }

  override updated(): void {
    const live = this.steps.some((s) => s.state === "running");
    if (live && !this.tick) this.tick = setInterval(() => this.requestUpdate(), TICK_MS);
    if (!live && this.tick) {
      clearInterval(this.tick);
      this.tick = undefined;
    }
    // Output opens at its end, where a failure says why, and the live output follows new lines unless the
    // person has scrolled up to read (they are not pulled away at every line).
    const output = this.renderRoot.querySelector<HTMLElement>(".live pre");
    if (output && this.followLive) output.scrollTop = output.scrollHeight;
    const failure = this.renderRoot.querySelector<HTMLElement>(".failure pre");
    if (failure && failure.textContent !== this.failureShown) {
      failure.scrollTop = failure.scrollHeight;
      this.failureShown = failure.textContent;
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.tick);
    this.tick = undefined;
  }

  private get deleting(): boolean {
    return this.steps[0]?.workflow === "delete";
  }

  private subtitle(c: Cell): string {
    if (c.status === "error" && this.deleting)
      return "Deleting stopped rather than lose work. Deal with what is named below, then delete again; Retry brings the cell back.";
    if (c.status === "error") return "Provisioning stopped at a failing step. Fix the cause, then retry.";
    if (c.status === "ready") return "Ready.";
    return "Setting up the worktree, setup commands and services. The cell opens when it is ready.";
  }

  private line(s: ChecklistStep) {
    const ms =
      s.state === "running" && s.startedAt
        ? Date.now() - Date.parse(s.startedAt)
        : (s.durationMs ?? undefined);
    return html`<li data-step=${s.step} data-state=${s.state}>
      <span class="icon" aria-hidden="true">${ICON[s.state]}</span>
      <span class="label"
        >${s.label}${s.gatesReady ? nothing : html`<span class="nongating">does not hold back ready</span>`}</span
      >
      <span class="dur">${s.state === "pending" ? "" : formatDuration(ms)}</span>
      ${
        s.detail && (s.state === "running" || s.state === "failed" || s.state === "done")
          ? html`<span class="detail">${lastLine(plainText(s.detail), s.state)}</span>`
          : nothing
      }
    </li>`;
  }

  private failure(step: ChecklistStep | undefined) {
    const text = this.output || this.cell.lastSetupError || step?.detail || "no output was recorded";
    return html`<section class="failure" role="alert">
      <h2>${step ? `“${step.label}” failed` : this.deleting ? "Deleting failed" : "Provisioning failed"}</h2>
      <pre>${plainText(text)}</pre>
      ${this.actionError ? html`<p class="error">${this.actionError}</p>` : nothing}
      <div class="actions">
        <button class="primary" ?disabled=${this.busy} @click=${() => this.emit("cell-retry")}>
          Retry
        </button>
        <button class="danger" ?disabled=${this.busy} @click=${() => this.emit("cell-delete")}>Delete</button>
      </div>
    </section>`;
  }

  private emit(type: string): void {
    this.dispatchEvent(
      new CustomEvent(type, { detail: { cellId: this.cell.id }, bubbles: true, composed: true }),
    );
  }
}

/** The running step's current sub-step is its latest line; a finished step keeps its whole summary. */
function lastLine(detail: string, state: ChecklistStep["state"]): string {
  if (state !== "running") return detail.length > 400 ? `${detail.slice(0, 400)}…` : detail;
  const lines = detail.trimEnd().split("\n");
  return lines[lines.length - 1] ?? "";
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-provisioning-checklist": HiveProvisioningChecklist;
  }
}
