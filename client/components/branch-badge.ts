import { html, nothing } from "lit";
import type { Cell } from "../../shared/records.ts";

const LABEL: Record<Cell["branchStatus"], string> = {
  active: "",
  pending_review: "review",
  conflict: "conflict",
  merged: "merged",
  abandoned: "abandoned",
};

/** Where a cell's branch stands (see the diff pane's commit and merge), shown beside its status; nothing while active. */
export function branchBadge(status: Cell["branchStatus"]) {
  if (status === "active") return nothing;
  return html`<span class="badge" data-branch=${status} title="Branch: ${status.replace("_", " ")}">${LABEL[status]}</span>`;
}
