import { html, type TemplateResult } from "lit";
import type { Cell } from "../../shared/records.ts";
import "./agent-chat.ts";
import "./diff-review.ts";
import "./services-strip.ts";

/**
 * What a cell view shows beside its terminals. Each feature plugs in with ONE line here, e.g.
 *   panes:  { id: "chat", title: "Agent", render: (cell) => html`<hive-agent-chat .cell=${cell}></hive-agent-chat>` },
 *           { id: "diff", title: "Changes", render: (cell) => html`<hive-diff-review .cell=${cell}></hive-diff-review>` },
 *   strips: { id: "services", render: (cell) => html`<hive-services-strip .cell=${cell}></hive-services-strip>` },
 * (importing `html` from lit and its component file at the top). The cell view lays panes out side by side with
 * resizable gutters, remembers their sizes per cell, and shows strips as bars above them.
 */
export interface CellPane {
  id: string;
  title: string;
  render(cell: Cell): TemplateResult;
  /**
   * A DOM event (fired anywhere in the cell view) that brings this pane into view, opening it if it was
   * closed; its detail is then handed to the pane's element's `reveal(detail)`.
   */
  revealOn?: string;
}

/** What a pane's element offers to be shown something (see CellPane.revealOn). */
export interface RevealTarget {
  reveal(detail: unknown): void;
}

export const cellPanes: CellPane[] = [
  { id: "chat", title: "Agent", render: (cell) => html`<hive-agent-chat .cell=${cell}></hive-agent-chat>` },
  {
    id: "diff",
    title: "Changes",
    render: (cell) => html`<hive-diff-review .cell=${cell}></hive-diff-review>`,
    revealOn: "show-diff",
  },
];

export const cellStrips: { id: string; render(cell: Cell): TemplateResult }[] = [
  { id: "services", render: (cell) => html`<hive-services-strip .cell=${cell}></hive-services-strip>` },
];
