import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";
import { LiveOutput } from "../setup/live-output.ts";
import type { SetupProcessGroups } from "../setup/process-groups.ts";
import { runCommand } from "../setup/run-command.ts";
import { copyIncludes } from "../worktrees/includes.ts";
import { addWorktree, deleteBranch, dirtyFiles, removeWorktree } from "../worktrees/worktrees.ts";
import type { CellContributor, PlannedStep } from "./plan.ts";

export const DEFAULT_SETUP_TIMEOUT_MS = 10 * 60_000;
const TEARDOWN_STEP_TIMEOUT_MS = 60_000;

export interface PlanDeps {
  contributors: CellContributor[];
  setupLogFile(cellId: string): string;
  setupGroups: SetupProcessGroups;
  cellEnv(cell: Cell, template: Template): Record<string, string>;
  setupTimeoutMs(cell: Cell, template: Template): number;
  deleteRecord(cell: Cell): void;
}

export interface ProvisionPlan {
  /** Run in order; each gates readiness. */
  main: PlannedStep[];
  /** Run beside `main` once the worktree exists; never hold back `ready`. */
  background: PlannedStep[];
}

function worktreeOf(cell: Cell): string {
  if (!cell.worktreePath) throw new HiveError("CELL_STATE", `Cell ${cell.id} has no worktree path recorded.`);
  return cell.worktreePath;
}

export function provisionPlan(deps: PlanDeps, cell: Cell, template: Template): ProvisionPlan {
  const main: PlannedStep[] = [
    {
      name: "create_worktree",
      label: "Create worktree",
      timeoutMs: 10 * 60_000,
      run: async ({ cell }) => {
        const path = worktreeOf(cell);
        return addWorktree(cell.workspacePath, path, cell.branchName!, cell.baseCommit!);
      },
    },
    {
      name: "copy_includes",
      label: "Copy included files",
      run: async ({ cell, template, progress }) => {
        if (template.include.length === 0) return "nothing to copy";
        const r = await copyIncludes(cell.workspacePath, worktreeOf(cell), template.include, (n) =>
          progress(`${n} files copied`),
        );
        return `${r.files} files, ${r.bytes} bytes (${r.cloned} cloned copy-on-write, ${r.files - r.cloned} copied)`;
      },
    },
    ...template.setup.map((cmd, i): PlannedStep => {
      const command = typeof cmd === "string" ? cmd : cmd.run;
      const timeoutMs =
        (typeof cmd === "string" ? undefined : cmd.timeoutMs) ?? deps.setupTimeoutMs(cell, template);
      return {
        name: `run_setup:${i}`,
        label: command,
        // The command's own timer kills its process group; the step's is only a backstop.
        timeoutMs: timeoutMs + 10_000,
        run: async ({ cell, template, signal, progress }) => {
          const live = new LiveOutput(progress);
          const result = await runCommand({
            command,
            cwd: worktreeOf(cell),
            env: deps.cellEnv(cell, template),
            timeoutMs,
            logFile: deps.setupLogFile(cell.id),
            signal,
            onOutput: (chunk) => live.push(chunk),
            groups: { registry: deps.setupGroups, owner: { cellId: cell.id } },
          });
          live.flush();
          if (result.exitCode === 0) return "exit 0";
          const why = result.timedOut
            ? `timed out after ${Math.round(timeoutMs / 1000)} s`
            : result.aborted
              ? "cancelled"
              : `exited with ${result.exitCode ?? result.signal}`;
          throw new Error(`setup command \`${command}\` ${why}\n${result.tail}`);
        },
      };
    }),
    ...deps.contributors.flatMap((c) => c.readySteps?.(cell, template) ?? []),
    { name: "mark_ready", label: "Ready", run: async () => "ready" },
  ];
  const background = deps.contributors.flatMap((c) => c.backgroundSteps?.(cell, template) ?? []);
  return { main, background };
}

/**
 * Work the delete could not keep (its "Keep uncommitted work" step failed, or something wrote after it) is
 * never removed with the worktree: the delete stops here (see Cells.runDelete) and the cell stays, in error,
 * for the person to commit, remove or ignore those files from one of its terminals, then delete again.
 */
async function assertNothingUncommitted(worktree: string): Promise<void> {
  if (!existsSync(worktree)) return;
  let changed: string[];
  try {
    changed = await dirtyFiles(worktree, true);
  } catch (e) {
    throw new HiveError(
      "WORK_NOT_KEPT",
      `Kept ${worktree}: git cannot tell whether it holds uncommitted work (${(e as Error).message.trim()}).`,
    );
  }
  if (changed.length > 0) {
    const some = `${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", …" : ""}`;
    throw new HiveError(
      "WORK_NOT_KEPT",
      `Kept ${worktree}: ${changed.length} file(s) with uncommitted work could not be committed onto the branch (${some}; the step before says why). Commit, remove or .gitignore them, then delete again.`,
    );
  }
}

/** Delete: best-effort steps; every one runs whatever the ones before it did, unless work would be lost. */
export function deletePlan(deps: PlanDeps, cell: Cell): PlannedStep[] {
  return [
    ...teardown(deps, cell, "delete"),
    {
      name: "remove_worktree",
      label: "Remove worktree",
      timeoutMs: 5 * 60_000,
      run: async ({ cell }) => {
        if (!cell.worktreePath) return "none";
        await assertNothingUncommitted(cell.worktreePath);
        return removeWorktree(cell.workspacePath, cell.worktreePath);
      },
    },
    {
      name: "delete_branch",
      label: "Delete branch",
      timeoutMs: TEARDOWN_STEP_TIMEOUT_MS,
      run: async ({ cell }) =>
        cell.branchName
          ? deleteBranch(cell.workspacePath, cell.branchName, cell.baseCommit, cell.baseRef)
          : "none",
    },
    ...deps.contributors
      .flatMap((c) => c.forgetSteps?.(cell) ?? [])
      .map((s) => ({ ...s, timeoutMs: s.timeoutMs ?? TEARDOWN_STEP_TIMEOUT_MS })),
    {
      name: "delete_cell_record",
      label: "Forget the cell",
      timeoutMs: TEARDOWN_STEP_TIMEOUT_MS,
      run: async ({ cell }) => {
        deps.deleteRecord(cell);
        // Its setup log could only be read through the cell; its timings stay (the timings view keeps them).
        rmSync(dirname(deps.setupLogFile(cell.id)), { recursive: true, force: true });
        return "deleted";
      },
    },
  ];
}

export function teardown(deps: PlanDeps, cell: Cell, workflow: "delete" | "archive"): PlannedStep[] {
  return deps.contributors
    .flatMap((c) => c.teardownSteps?.(cell, workflow) ?? [])
    .map((s) => ({ ...s, timeoutMs: s.timeoutMs ?? TEARDOWN_STEP_TIMEOUT_MS }));
}

export function restorePlan(deps: PlanDeps, cell: Cell, template: Template): PlannedStep[] {
  return [
    ...deps.contributors.flatMap((c) => c.restoreSteps?.(cell, template) ?? []),
    { name: "mark_ready", label: "Ready", run: async () => "ready" },
  ];
}

export function setupLogPath(logsDir: string, cellId: string): string {
  return join(logsDir, "cells", cellId, "setup.log");
}
