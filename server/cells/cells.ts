import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { CreateCellBody } from "../../shared/api.ts";
import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell, ChecklistStep, TimingEvent } from "../../shared/records.ts";
import type { CellPatch, CellRepo } from "../db/cells.ts";
import { newId, slugify } from "../db/ids.ts";
import type { TimingRepo } from "../db/timings.ts";
import type { EventBus } from "../events/bus.ts";
import { expandTilde, type HomeLayout } from "../home/home.ts";
import { SetupProcessGroups } from "../setup/process-groups.ts";
import type { Workspaces } from "../workspaces/workspaces.ts";
import { currentBranch, resolveBase } from "../worktrees/worktrees.ts";
import { checklist } from "./checklist.ts";
import type { CellContributor, PlannedStep } from "./plan.ts";
import {
  DEFAULT_SETUP_TIMEOUT_MS,
  deletePlan,
  type PlanDeps,
  provisionPlan,
  restorePlan,
  setupLogPath,
  teardown,
} from "./provision.ts";
import { runStep, type StepRun } from "./steps.ts";

type Workflow = TimingEvent["workflow"];

function failure(step: string, error: Error): CellPatch {
  return { status: "error", currentStep: step, lastSetupError: `${step}: ${error.message}` };
}

interface Running {
  workflow: Workflow;
  controller: AbortController;
  done: Promise<void>;
}

export interface CellsDeps {
  cells: CellRepo;
  timings: TimingRepo;
  workspaces: Workspaces;
  bus: EventBus;
  layout: HomeLayout;
}

/**
 * The cell state machine: spawning → ready | error; deleting; archived. One workflow at a time per cell;
 * each step is recorded as a timing event. Git and processes are reached only through worktrees/ and
 * setup/; services, agents and terminals take part through contributors.
 */
export class Cells {
  private readonly contributors: CellContributor[] = [];
  private readonly running = new Map<string, Running>();
  private readonly background = new Map<
    string,
    { controller: AbortController; steps: Map<string, Promise<unknown>> }
  >();
  private readonly plan: PlanDeps;

  constructor(private readonly deps: CellsDeps) {
    this.plan = {
      contributors: this.contributors,
      setupLogFile: (id) => setupLogPath(deps.layout.logsDir, id),
      setupGroups: new SetupProcessGroups(join(deps.layout.runDir, "setup-groups")),
      cellEnv: (cell, template) => this.processEnv(cell, template),
      setupTimeoutMs: (cell, t) =>
        t.setupTimeoutMs ??
        deps.workspaces.config(cell.workspaceId).current.config.defaults.setupTimeoutMs ??
        DEFAULT_SETUP_TIMEOUT_MS,
      deleteRecord: (cell) => {
        deps.cells.delete(cell.id);
        deps.bus.emit("cell.removed", { cellId: cell.id, workspaceId: cell.workspaceId });
      },
    };
  }

  addContributor(c: CellContributor): void {
    this.contributors.push(c);
  }

  list(workspaceId?: string): Cell[] {
    return this.deps.cells.list(workspaceId);
  }

  get(id: string): Cell {
    const cell = this.deps.cells.get(id);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${id}'.`);
    return cell;
  }

  timings(id: string): TimingEvent[] {
    this.get(id);
    return this.deps.timings.forCell(id);
  }

  setupLog(id: string): string {
    this.get(id);
    const file = setupLogPath(this.deps.layout.logsDir, id);
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /** Everything a process of this cell sees: Hive's env, the template's, the contributors' (ports), the cell's. */
  env(id: string): Record<string, string> {
    const cell = this.get(id);
    return this.processEnv(cell, this.templateOf(cell));
  }

  /** Waits for the cell's running workflow, if any (tests and shutdown). */
  async settled(id: string): Promise<void> {
    await this.running.get(id)?.done;
  }

  async create(body: CreateCellBody): Promise<Cell> {
    const workspace = this.deps.workspaces.present(body.workspaceId);
    const template = this.deps.workspaces.config(workspace.id).template(body.templateId);
    const baseRef = body.baseRef ?? (await currentBranch(workspace.path)) ?? "HEAD";
    const baseCommit = await resolveBase(workspace.path, baseRef);
    const id = newId();
    const slug = `${slugify(body.name)}-${id.slice(0, 4)}`;
    const now = new Date().toISOString();
    const cell: Cell = {
      id,
      name: body.name,
      description: body.description?.trim() || null,
      templateId: template.id,
      workspaceId: workspace.id,
      workspacePath: workspace.path,
      worktreePath: join(this.worktreeRoot(workspace.id, template), workspace.slug, id),
      branchName: `hive/${slug}`,
      baseRef,
      baseCommit,
      status: "spawning",
      currentStep: "create_cell_record",
      lastSetupError: null,
      opencodeSessionId: null,
      agentStatus: "none",
      agentStatusDetail: null,
      branchStatus: "active",
      createdAt: now,
      updatedAt: now,
    };
    this.deps.cells.insert(cell, body.agent);
    const t = this.deps.timings.start({
      cellId: id,
      cellName: cell.name,
      workspaceId: workspace.id,
      workflow: "provision",
      attempt: 1,
      step: "create_cell_record",
      startedAt: now,
    });
    this.deps.timings.finish(t.id, "ok", `${cell.branchName} from ${baseRef} (${baseCommit.slice(0, 12)})`);
    this.deps.bus.emit("cell.updated", { cell });
    this.start(id, "provision", (signal) => this.provision(id, signal, 1));
    return cell;
  }

  /** Re-runs provisioning from the failed step, with the config as it is now. */
  retry(id: string): Cell {
    const cell = this.get(id);
    this.assertIdle(cell);
    if (cell.status !== "error") {
      throw new HiveError(
        "CELL_STATE",
        `Cell '${cell.name}' is ${cell.status}; only a cell in error can be retried.`,
      );
    }
    const attempt = this.deps.timings.lastAttempt(id, "provision") + 1;
    const updated = this.update(id, { status: "spawning", lastSetupError: null });
    this.start(id, "provision", (signal) => this.provision(id, signal, attempt));
    return updated;
  }

  /** Starts deletion; a running workflow is cancelled first. Deleting twice is harmless. */
  delete(id: string): Cell {
    const cell = this.get(id);
    const current = this.running.get(id);
    if (current?.workflow === "delete") return cell;
    current?.controller.abort(new Error("the cell is being deleted"));
    const updated = this.update(id, { status: "deleting" });
    const attempt = this.deps.timings.lastAttempt(id, "delete") + 1;
    const previous = current?.done ?? Promise.resolve();
    this.start(id, "delete", async (signal) => {
      await previous;
      await this.stopBackground(id, "the cell is being deleted");
      await this.runDelete(id, signal, attempt);
      return undefined;
    });
    return updated;
  }

  archive(id: string): Cell {
    const cell = this.get(id);
    this.assertIdle(cell);
    if (cell.status !== "ready" && cell.status !== "error") {
      throw new HiveError(
        "CELL_STATE",
        `Cell '${cell.name}' is ${cell.status}; only ready or failed cells archive.`,
      );
    }
    const attempt = this.deps.timings.lastAttempt(id, "archive") + 1;
    this.start(id, "archive", async (signal) => {
      await this.stopBackground(id, "the cell is being archived");
      for (const step of teardown(this.plan, this.get(id), "archive")) {
        await this.step(id, step, "archive", attempt, signal, true);
      }
      return { status: "archived", currentStep: null };
    });
    return cell;
  }

  restore(id: string): Cell {
    const cell = this.get(id);
    this.assertIdle(cell);
    if (cell.status !== "archived") throw new HiveError("CELL_STATE", `Cell '${cell.name}' is not archived.`);
    if (!cell.worktreePath || !existsSync(cell.worktreePath)) {
      throw new HiveError("CELL_STATE", `The worktree of '${cell.name}' is gone (${cell.worktreePath}).`);
    }
    const attempt = this.deps.timings.lastAttempt(id, "restore") + 1;
    // An abandoned cell brought back is worked on again.
    const branch = cell.branchStatus === "abandoned" ? { branchStatus: "active" as const } : {};
    const updated = this.update(id, { status: "spawning", ...branch });
    this.start(id, "restore", async (signal) => {
      const c = this.get(id);
      for (const step of restorePlan(this.plan, c, this.templateOf(c))) {
        const r = await this.step(id, step, "restore", attempt, signal, true);
        if (!r.ok) return failure(step.name, r.error);
      }
      return { status: "ready", currentStep: null };
    });
    return updated;
  }

  /** The checklist the browser shows: planned steps with the latest recorded state of each. */
  checklist(id: string): ChecklistStep[] {
    const cell = this.get(id);
    return checklist(this.plan, cell, this.deps.timings.forCell(id), () => this.templateOf(cell));
  }

  /**
   * After a restart: cells caught mid-provisioning are marked failed at the step they were in (Retry
   * continues from there); interrupted deletes resume.
   */
  recover(): void {
    const ended = new Map(this.plan.setupGroups.reap().map((g) => [g.cellId, g.command]));
    for (const cell of this.deps.cells.list()) {
      if (cell.status === "spawning") {
        this.deps.timings.closeDangling(cell.id, "interrupted: Hive stopped during this step");
        const step = cell.currentStep ?? "provisioning";
        const command = ended.get(cell.id);
        const left = command ? ` Its command \`${command}\` was still running and has been ended.` : "";
        this.update(cell.id, {
          status: "error",
          lastSetupError: `Hive stopped during step '${step}'.${left} Press Retry to continue from there.`,
        });
      } else if (cell.status === "deleting") {
        this.deps.timings.closeDangling(cell.id, "interrupted: Hive stopped during this step");
        this.update(cell.id, { status: "error" });
        this.delete(cell.id);
      } else {
        this.deps.timings.closeDangling(cell.id, "interrupted: Hive stopped during this step");
      }
    }
  }

  /** Cancels every workflow and waits for them (shutdown). */
  async stop(): Promise<void> {
    for (const r of this.running.values()) r.controller.abort(new Error("Hive is stopping"));
    await Promise.allSettled([
      ...[...this.running.values()].map((r) => r.done),
      ...[...this.background.keys()].map((id) => this.stopBackground(id, "Hive is stopping")),
    ]);
  }

  private async provision(id: string, signal: AbortSignal, attempt: number): Promise<CellPatch | undefined> {
    const cell = this.get(id);
    const template = this.templateOf(cell);
    try {
      for (const c of this.plan.contributors) await c.prepare?.(cell, template);
    } catch (e) {
      return failure("prepare", e as Error);
    }
    const plan = provisionPlan(this.plan, cell, template);
    const okBefore = this.okSteps(id);
    const firstToRun = plan.main.findIndex((s) => !okBefore.has(s.name) || s.name === "mark_ready");
    const startBackground = () => {
      for (const step of plan.background.filter((s) => !okBefore.has(s.name))) {
        this.startBackgroundStep(id, step, attempt);
      }
    };
    if (firstToRun > 0) startBackground();
    let final: CellPatch | undefined;
    for (const step of plan.main.slice(Math.max(firstToRun, 0))) {
      if (signal.aborted) break;
      const r = await this.step(id, step, "provision", attempt, signal, true);
      if (!r.ok) {
        if (!signal.aborted) final = failure(step.name, r.error);
        break;
      }
      if (step.name === "create_worktree") startBackground();
      // Usable now, even while a background step (the agent warming up) still runs.
      if (step.name === "mark_ready") final = { status: "ready", currentStep: null, lastSetupError: null };
    }
    return final;
  }

  /**
   * Background steps outlive the workflow that started them, so a failed setup can be retried while the
   * agent still warms up; a retry does not start a step that is still running.
   */
  private startBackgroundStep(id: string, step: PlannedStep, attempt: number): void {
    let run = this.background.get(id);
    if (!run) {
      run = { controller: new AbortController(), steps: new Map() };
      this.background.set(id, run);
    }
    if (run.steps.has(step.name)) return;
    const owner = run;
    const done = this.step(id, step, "provision", attempt, owner.controller.signal, false).finally(() => {
      owner.steps.delete(step.name);
      if (owner.steps.size === 0 && this.background.get(id) === owner) this.background.delete(id);
    });
    owner.steps.set(step.name, done);
  }

  /** Cancels a cell's background steps and waits for them (before delete, archive or shutdown). */
  private async stopBackground(id: string, reason: string): Promise<void> {
    const run = this.background.get(id);
    if (!run) return;
    run.controller.abort(new Error(reason));
    await Promise.allSettled(run.steps.values());
  }

  private async runDelete(id: string, signal: AbortSignal, attempt: number): Promise<void> {
    for (const step of deletePlan(this.plan, this.get(id))) {
      // Best effort: a failing step is recorded and the next one still runs, so no cell gets stuck; except
      // where going on would remove work that could not be kept (the cell then ends in error, see start()).
      const outcome = await this.step(id, step, "delete", attempt, signal, true);
      if (!outcome.ok && outcome.error instanceof HiveError && outcome.error.code === "WORK_NOT_KEPT")
        throw outcome.error;
    }
  }

  private step(
    id: string,
    step: PlannedStep,
    workflow: Workflow,
    attempt: number,
    signal: AbortSignal,
    gates: boolean,
  ) {
    const cell = this.get(id);
    const run: StepRun = {
      cellId: id,
      workflow,
      attempt,
      template: this.templateOrFallback(cell),
      workspace: this.deps.workspaces.get(cell.workspaceId),
      signal,
      tracksCurrentStep: gates,
    };
    return runStep(this.deps, step, run);
  }

  private okSteps(id: string): Set<string> {
    const latest = new Map<string, string>();
    for (const t of this.deps.timings.forCell(id))
      if (t.workflow === "provision") latest.set(t.step, t.outcome);
    return new Set([...latest].filter(([, o]) => o === "ok").map(([s]) => s));
  }

  private fail(id: string, step: string, error: Error): void {
    this.update(id, failure(step, error));
  }

  /**
   * Runs a workflow as the cell's only one. The body returns the cell's final state, applied after the
   * workflow has let go of the cell so that whoever sees that state can act on the cell at once.
   */
  private start(
    id: string,
    workflow: Workflow,
    body: (signal: AbortSignal) => Promise<CellPatch | undefined>,
  ): void {
    const controller = new AbortController();
    const release = () => {
      if (this.running.get(id)?.controller === controller) this.running.delete(id);
    };
    const done = body(controller.signal).then(
      (final) => {
        release();
        if (final && this.deps.cells.get(id)) this.update(id, final);
      },
      (e: Error) => {
        release();
        const cell = this.deps.cells.get(id);
        if (cell) this.fail(id, cell.currentStep ?? workflow, e);
      },
    );
    this.running.set(id, { workflow, controller, done });
  }

  private assertIdle(cell: Cell): void {
    const r = this.running.get(cell.id);
    if (r)
      throw new HiveError(
        "CELL_BUSY",
        `Cell '${cell.name}' is busy (${r.workflow} in progress); try again after.`,
      );
  }

  private update(id: string, patch: CellPatch): Cell {
    const cell = this.deps.cells.update(id, patch);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${id}'.`);
    this.deps.bus.emit("cell.updated", { cell });
    return cell;
  }

  private templateOf(cell: Cell): Template {
    return this.deps.workspaces.config(cell.workspaceId).template(cell.templateId);
  }

  /** Teardown must work even when the template is gone from the config. */
  private templateOrFallback(cell: Cell): Template {
    try {
      return this.templateOf(cell);
    } catch {
      return {
        id: cell.templateId,
        label: cell.templateId,
        setup: [],
        include: [],
        env: {},
        services: {},
        prompts: [],
      };
    }
  }

  private worktreeRoot(workspaceId: string, template: Template): string {
    const configured =
      template.worktreeRoot ?? this.deps.workspaces.config(workspaceId).current.config.defaults.worktreeRoot;
    if (!configured) return this.deps.layout.cellsDir;
    const p = expandTilde(configured);
    return isAbsolute(p) ? p : resolve(this.deps.workspaces.get(workspaceId).path, p);
  }

  private processEnv(cell: Cell, template: Template): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, template.env);
    for (const c of this.contributors) Object.assign(env, c.env?.(cell) ?? {});
    Object.assign(env, {
      HIVE_CELL_ID: cell.id,
      HIVE_CELL_NAME: cell.name,
      HIVE_WORKTREE: cell.worktreePath ?? "",
      HIVE_BRANCH: cell.branchName ?? "",
      HIVE_BASE_COMMIT: cell.baseCommit ?? "",
    });
    return env;
  }
}
