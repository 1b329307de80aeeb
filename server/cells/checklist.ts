import type { Template } from "../../shared/config.ts";
import type { Cell, ChecklistStep, TimingEvent } from "../../shared/records.ts";
import { deletePlan, type PlanDeps, provisionPlan } from "./provision.ts";

type Planned = Pick<ChecklistStep, "step" | "label" | "gatesReady">;

function stateOf(t: TimingEvent | undefined): ChecklistStep["state"] {
  if (!t) return "pending";
  switch (t.outcome) {
    case "ok":
      return "done";
    case "running":
      return "running";
    case "skipped":
      return "skipped";
    default:
      return "failed";
  }
}

/**
 * The checklist the browser shows: the steps the current workflow plans, each with the latest recorded
 * state. `template` is a thunk because reading it can fail (a broken config); the recorded steps are
 * then shown as they are rather than hiding the cell's history.
 */
export function checklist(
  deps: PlanDeps,
  cell: Cell,
  timings: TimingEvent[],
  template: () => Template,
): ChecklistStep[] {
  // A delete that stopped (to keep work it could not commit) leaves the cell in error: its steps are shown.
  const stoppedDelete = cell.status === "error" && timings.at(-1)?.workflow === "delete";
  const workflow = cell.status === "deleting" || stoppedDelete ? "delete" : "provision";
  const latest = new Map<string, TimingEvent>();
  for (const t of timings) if (t.workflow === workflow) latest.set(t.step, t);
  let planned: Planned[];
  try {
    if (workflow === "delete") {
      planned = deletePlan(deps, cell).map((s) => ({ step: s.name, label: s.label, gatesReady: true }));
    } else {
      const p = provisionPlan(deps, cell, template());
      planned = [
        { step: "create_cell_record", label: "Record the cell", gatesReady: true },
        ...p.main.map((s) => ({ step: s.name, label: s.label, gatesReady: true })),
        ...p.background.map((s) => ({ step: s.name, label: s.label, gatesReady: false })),
      ];
    }
  } catch {
    planned = [...latest.keys()].map((step) => ({ step, label: step, gatesReady: true }));
  }
  return planned.map((p) => {
    const t = latest.get(p.step);
    return {
      ...p,
      workflow,
      state: stateOf(t),
      startedAt: t?.startedAt ?? null,
      durationMs: t?.durationMs ?? null,
      detail: t?.detail ?? null,
    };
  });
}
