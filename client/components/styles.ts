import { css, html } from "lit";
import type { CellStatus } from "../../shared/records.ts";

/** Buttons and form fields as every Hive screen draws them. */
export const buttonStyles = css`
  button {
    font: inherit;
    padding: 5px 12px;
    border-radius: var(--hive-radius);
    border: 1px solid var(--hive-border);
    background: var(--hive-panel);
    color: var(--hive-text);
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    border-color: var(--hive-muted);
  }
  button:focus-visible,
  input:focus-visible,
  textarea:focus-visible,
  select:focus-visible {
    outline: 2px solid var(--hive-focus);
    outline-offset: 1px;
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  button.primary {
    background: var(--hive-accent);
    border-color: var(--hive-accent);
    color: var(--hive-accent-text);
    font-weight: 600;
  }
  button.danger {
    color: var(--hive-error);
  }
  input,
  textarea,
  select {
    font: inherit;
    color: var(--hive-text);
    background: var(--hive-sunken);
    border: 1px solid var(--hive-border);
    border-radius: var(--hive-radius);
    padding: 6px 8px;
    box-sizing: border-box;
  }
  .error {
    color: var(--hive-error);
  }
  kbd {
    font-family: var(--hive-mono);
    font-size: 12px;
    padding: 1px 5px;
    border: 1px solid var(--hive-border);
    border-bottom-width: 2px;
    border-radius: 4px;
    background: var(--hive-sunken);
  }
`;

export const statusStyles = css`
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 4px;
    font-size: 11px;
    font-weight: 600;
    padding: 1px 7px;
    border-radius: 999px;
    border: 1px solid currentColor;
    white-space: nowrap;
  }
  .badge::before {
    content: "";
    width: 6px;
    height: 6px;
    border-radius: 50%;
    background: currentColor;
  }
  .badge.spawning,
  .badge.deleting {
    color: var(--hive-running);
  }
  .badge.spawning::before,
  .badge.deleting::before {
    animation: pulse 1s ease-in-out infinite alternate;
  }
  .badge.ready {
    color: var(--hive-ok);
  }
  .badge.error {
    color: var(--hive-error);
  }
  .badge.archived {
    color: var(--hive-idle);
  }
  @keyframes pulse {
    to {
      opacity: 0.2;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .badge::before {
      animation: none !important;
    }
  }
`;

export function statusBadge(status: CellStatus) {
  return html`<span class="badge ${status}" data-status=${status}>${status}</span>`;
}

/** "1 file", "2 files": a count with its noun. */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1.2 s", "340 ms", "2 min 5 s": durations as people read them. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A wrapping row of controls under a pane's title (`.bar`), with `.grow` pushing what follows to the end. */
export const toolbarStyles = css`
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px;
    padding: 6px 8px;
    border-bottom: 1px solid var(--hive-border);
  }
  .bar .grow {
    flex: 1;
  }
`;
