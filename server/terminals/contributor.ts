import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";
import type { CellContributor } from "../cells/plan.ts";
import type { TerminalLaunch, Terminals } from "./terminals.ts";

/** Terminals end with their cell: deleting or archiving it closes every shell it has. */
export function terminalsContributor(terminals: Terminals): CellContributor {
  return {
    teardownSteps: (cell) => [
      {
        name: "close_terminals",
        label: "Close terminals",
        timeoutMs: 10_000,
        async run() {
          const n = await terminals.closeCell(cell.id);
          return n === 0 ? "no terminals" : `closed ${n} terminal${n === 1 ? "" : "s"}`;
        },
      },
    ],
  };
}

/** Where a cell's shell starts: its worktree, with the environment every process of the cell gets. */
export function cellTerminalLaunch(
  cells: { get(id: string): Cell; env(id: string): Record<string, string> },
  cellId: string,
): TerminalLaunch {
  const cell = cells.get(cellId);
  if (cell.status === "deleting" || cell.status === "archived") {
    throw new HiveError(
      "CELL_STATE",
      `cell '${cell.name}' is ${cell.status}; terminals open only in a live cell`,
    );
  }
  if (!cell.worktreePath) {
    throw new HiveError(
      "CELL_STATE",
      `cell '${cell.name}' has no worktree yet; open a terminal once it is created`,
    );
  }
  return { cwd: cell.worktreePath, env: cells.env(cellId) };
}
