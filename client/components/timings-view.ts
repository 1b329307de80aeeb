import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import type { TimingEvent } from "../../shared/records.ts";
import type { TimingsFilter } from "../stores/timings.ts";
import { buttonStyles, formatDuration } from "./styles.ts";

/**
 * Every recorded step of every cell, deleted cells included, slowest first, filterable by cell and
 * step. Event up: `timings-filter` with the new filter.
 */
@customElement("hive-timings")
export class HiveTimings extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
        padding: 24px 28px;
        overflow: auto;
        box-sizing: border-box;
      }
      h1 {
        font-size: 20px;
        margin: 0 0 14px;
      }
      form {
        display: flex;
        gap: 10px;
        flex-wrap: wrap;
        align-items: end;
        margin-bottom: 14px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 4px;
        font-size: 12px;
        color: var(--hive-muted);
      }
      table {
        border-collapse: collapse;
        width: 100%;
        background: var(--hive-panel);
        border: 1px solid var(--hive-border);
        font-size: 13px;
      }
      th,
      td {
        text-align: left;
        padding: 6px 10px;
        border-bottom: 1px solid var(--hive-border);
        white-space: nowrap;
      }
      th {
        font-size: 12px;
        color: var(--hive-muted);
        font-weight: 600;
        position: sticky;
        top: 0;
        background: var(--hive-panel);
      }
      /* A long cell name is cut (whole in its tooltip), so the duration stays in view on a narrow screen. */
      td.cell {
        max-width: 14em;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      td.detail {
        color: var(--hive-muted);
        max-width: 0;
        width: 40%;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .outcome-error {
        color: var(--hive-error);
      }
      .outcome-running {
        color: var(--hive-running);
      }
      .bar {
        display: inline-block;
        height: 6px;
        background: var(--hive-accent);
        border-radius: 3px;
        vertical-align: middle;
        margin-right: 6px;
      }
      .count {
        color: var(--hive-muted);
        font-size: 12px;
        margin-bottom: 6px;
      }
    `,
  ];

  @property({ attribute: false }) events: TimingEvent[] = [];
  @property({ attribute: false }) filter: TimingsFilter = { cellId: "", step: "" };
  /** Every cell and step name seen, so the filters offer what exists (deleted cells too). */
  @property({ attribute: false }) cellNames: { id: string; name: string }[] = [];
  @property({ attribute: false }) steps: string[] = [];
  @property() error: string | undefined;

  override render() {
    const max = Math.max(1, ...this.events.map((e) => e.durationMs ?? 0));
    return html`
      <h1>Timings</h1>
      <form @change=${this.onChange} @submit=${(e: Event) => e.preventDefault()}>
        <label
          >Cell
          <select name="cellId" .value=${this.filter.cellId}>
            <option value="">All cells</option>
            ${this.cellNames.map((c) => html`<option value=${c.id} ?selected=${c.id === this.filter.cellId}>${c.name}</option>`)}
          </select>
        </label>
        <label
          >Step
          <select name="step" .value=${this.filter.step}>
            <option value="">All steps</option>
            ${this.steps.map((s) => html`<option value=${s} ?selected=${s === this.filter.step}>${s}</option>`)}
          </select>
        </label>
      </form>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="count">${this.events.length} steps, slowest first</div>
      <table>
        <thead>
          <tr>
            <th>Cell</th>
            <th>Step</th>
            <th>Duration</th>
            <th>Outcome</th>
            <th>Workflow</th>
            <th>Started</th>
            <th>Detail</th>
          </tr>
        </thead>
        <tbody>
          ${this.events.map(
            (e) => html`<tr data-step=${e.step} data-cell-id=${e.cellId}>
              <td class="cell" title=${e.cellName}>${e.cellName}</td>
              <td>${e.step}</td>
              <td class="num">
                <span class="bar" style="width:${Math.round(((e.durationMs ?? 0) / max) * 80)}px"></span>${formatDuration(
                  e.durationMs,
                )}
              </td>
              <td class="outcome-${e.outcome}">${e.outcome}</td>
              <td>${e.workflow}${e.attempt > 1 ? ` #${e.attempt}` : ""}</td>
              <td title=${e.startedAt}>${when(e.startedAt)}</td>
              <td class="detail" title=${e.detail ?? ""}>${e.detail ?? ""}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }

  private onChange(e: Event): void {
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const filter: TimingsFilter = {
      cellId: String(data.get("cellId") ?? ""),
      step: String(data.get("step") ?? ""),
    };
    this.dispatchEvent(new CustomEvent("timings-filter", { detail: filter, bubbles: true, composed: true }));
  }
}

/** Time of day for today's steps, date and time for older ones. */
function when(iso: string): string {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-timings": HiveTimings;
  }
}
