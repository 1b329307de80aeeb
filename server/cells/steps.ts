import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell, TimingEvent, Workspace } from "../../shared/records.ts";
import type { CellRepo } from "../db/cells.ts";
import type { TimingRepo } from "../db/timings.ts";
import type { EventBus } from "../events/bus.ts";
import type { PlannedStep } from "./plan.ts";

export const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000;

export interface StepRun {
  cellId: string;
  workflow: TimingEvent["workflow"];
  attempt: number;
  template: Template;
  workspace: Workspace;
  /** The workflow's signal: aborted when the cell is deleted while it runs. */
  signal: AbortSignal;
  /** Whether the cell's current_step should follow this step (false for background steps). */
  tracksCurrentStep: boolean;
}

export type StepOutcome = { ok: true; detail: string | null } | { ok: false; error: Error };

/** Runs one step with its timeout, recording start, end, outcome and detail, and announcing each. */
export async function runStep(
  deps: { cells: CellRepo; timings: TimingRepo; bus: EventBus },
  step: PlannedStep,
  run: StepRun,
): Promise<StepOutcome> {
  const cell = deps.cells.get(run.cellId);
  if (!cell) return { ok: false, error: new HiveError("CELL_NOT_FOUND", `Cell ${run.cellId} is gone.`) };
  const timing = deps.timings.start({
    cellId: cell.id,
    cellName: cell.name,
    workspaceId: cell.workspaceId,
    workflow: run.workflow,
    attempt: run.attempt,
    step: step.name,
    startedAt: new Date().toISOString(),
  });
  announce(deps, cell, timing, run.tracksCurrentStep ? step.name : undefined);

  const timeoutMs = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const controller = new AbortController();
  const onAbort = () => controller.abort(run.signal.reason);
  run.signal.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`step ${step.name} timed out after ${Math.round(timeoutMs / 1000)} s`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([
      step.run({
        cell,
        template: run.template,
        workspace: run.workspace,
        signal: controller.signal,
        progress: (detail) => deps.bus.emit("cell.progress", { cellId: cell.id, step: step.name, detail }),
      }),
      timeout,
    ]);
    const done = deps.timings.finish(timing.id, "ok", typeof result === "string" ? result : null);
    announce(deps, cell, done);
    return { ok: true, detail: done.detail };
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    const done = deps.timings.finish(timing.id, "error", error.message.slice(0, 8000));
    announce(deps, cell, done);
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
    run.signal.removeEventListener("abort", onAbort);
  }
}

function announce(
  deps: { cells: CellRepo; bus: EventBus },
  cell: Cell,
  timing: TimingEvent,
  currentStep?: string,
): void {
  if (currentStep !== undefined) {
    const updated = deps.cells.update(cell.id, { currentStep });
    if (updated) deps.bus.emit("cell.updated", { cell: updated });
  }
  deps.bus.emit("cell.step", { cellId: cell.id, workspaceId: cell.workspaceId, timing });
}
