import type { Template } from "../../shared/config.ts";
import type { Cell, Workspace } from "../../shared/records.ts";

/** What a step gets while it runs. */
export interface StepContext {
  cell: Cell;
  template: Template;
  workspace: Workspace;
  /** Aborted when the step times out or the workflow is cancelled (the cell is being deleted). */
  signal: AbortSignal;
  /** Live detail for the checklist (current sub-step, output lines). */
  progress(detail: string): void;
}

/** One named step of a workflow. A string result becomes the step's recorded detail. */
export interface PlannedStep {
  name: string;
  label: string;
  timeoutMs?: number;
  run(ctx: StepContext): Promise<unknown>;
}

/**
 * How another room (services, agents, terminals) takes part in a cell's life without cells/ knowing
 * it: each contributor adds steps to the workflows and environment to the cell's processes.
 */
export interface CellContributor {
  /**
   * Runs before any provisioning step, for what every step's environment needs from the start: the
   * service ports that setup commands, terminals and the agent's first prompt (a background step) see.
   */
  prepare?(cell: Cell, template: Template): Promise<void>;
  /** Steps after setup that gate readiness, in order (e.g. ensure_services:<name>). */
  readySteps?(cell: Cell, template: Template): PlannedStep[];
  /** Steps that run beside provisioning once the worktree exists and never hold back `ready`. */
  backgroundSteps?(cell: Cell, template: Template): PlannedStep[];
  /** Teardown steps for delete and archive (stop_services, close_terminals ...). Best effort. */
  teardownSteps?(cell: Cell, workflow: "delete" | "archive"): PlannedStep[];
  /**
   * Delete only, after the worktree and branch are gone: drop what only this cell used. A delete that
   * stops to keep uncommitted work never reaches them, so the cell comes back from it whole.
   */
  forgetSteps?(cell: Cell): PlannedStep[];
  /** Steps that bring an archived cell back (before it is marked ready). */
  restoreSteps?(cell: Cell, template: Template): PlannedStep[];
  /** Environment this contributor adds to every process of the cell (ports, URLs). */
  env?(cell: Cell): Record<string, string>;
}
