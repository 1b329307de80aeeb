import { channelOf } from "../../../shared/protocol.ts";
import type { Cell, ChecklistStep, Workspace } from "../../../shared/records.ts";
import type { TerminalInfo } from "../../../shared/terminals.ts";
import type { EventBus } from "../../events/bus.ts";
import type { Hub } from "../hub.ts";

/**
 * The channels of the cell list and of one cell:
 * - `workspaces:all`: `{workspaces}`, then `{type:"workspace.added", workspace}` /
 *   `{type:"workspace.removed", workspaceId}`;
 * - `workspace:<id>`: `{cells}`, then `cell.updated {cell}` / `cell.removed {cellId}`, and
 *   `config.changed` when its hive.config.json changed (a new-cell form reloads its templates);
 * - `cell:<id>`: `{cell, steps, terminals}`, then `cell.updated`, `cell.step {timing}` with
 *   `cell.steps {steps}` (the checklist after it), `cell.output`, `cell.progress`, `cell.removed`, and
 *   `terminal.opened|terminal.updated {terminal}` / `terminal.closed {termId}`.
 * Every event carries the whole changed record, so a repeated one does no harm.
 */

export interface CellQueries {
  list(workspaceId: string): Cell[];
  /** Throws a HiveError (CELL_NOT_FOUND) for an unknown id. */
  get(id: string): Cell;
  checklist(id: string): ChecklistStep[];
}

export interface ChannelSources {
  workspaces: { list(): Workspace[]; get(id: string): Workspace };
  cells: CellQueries;
  terminals: { list(cellId: string): TerminalInfo[] };
}

export function registerCellChannels(hub: Hub, src: ChannelSources, bus: EventBus): () => void {
  hub.registerProvider("workspaces", { snapshot: () => ({ workspaces: src.workspaces.list() }) });
  hub.registerProvider("workspace", {
    snapshot: (id) => {
      src.workspaces.get(id);
      return { cells: src.cells.list(id) };
    },
  });
  hub.registerProvider("cell", {
    snapshot: (id) => ({
      cell: src.cells.get(id),
      steps: src.cells.checklist(id),
      terminals: src.terminals.list(id),
    }),
  });

  const cell = (id: string) => channelOf("cell", id);
  const steps = (id: string) => {
    try {
      hub.publish(cell(id), { type: "cell.steps", steps: src.cells.checklist(id) });
    } catch {
      // The cell is gone; its removal is published on its own.
    }
  };
  const offs = [
    bus.on("workspace.added", ({ workspace }) =>
      hub.publish(channelOf("workspaces", "all"), { type: "workspace.added", workspace }),
    ),
    bus.on("workspace.removed", ({ workspace }) =>
      hub.publish(channelOf("workspaces", "all"), { type: "workspace.removed", workspaceId: workspace.id }),
    ),
    bus.on("config.changed", ({ workspaceId }) =>
      hub.publish(channelOf("workspace", workspaceId), { type: "config.changed" }),
    ),
    bus.on("cell.updated", ({ cell: c }) => {
      hub.publish(channelOf("workspace", c.workspaceId), { type: "cell.updated", cell: c });
      hub.publish(cell(c.id), { type: "cell.updated", cell: c });
    }),
    bus.on("cell.removed", ({ cellId, workspaceId }) => {
      hub.publish(channelOf("workspace", workspaceId), { type: "cell.removed", cellId });
      hub.publish(cell(cellId), { type: "cell.removed", cellId });
    }),
    bus.on("cell.step", ({ cellId, timing }) => {
      hub.publish(cell(cellId), { type: "cell.step", timing });
      steps(cellId);
    }),
    bus.on("cell.output", ({ cellId, step, chunk }) =>
      hub.publish(cell(cellId), { type: "cell.output", step, chunk }),
    ),
    bus.on("cell.progress", ({ cellId, step, detail }) =>
      hub.publish(cell(cellId), { type: "cell.progress", step, detail }),
    ),
    bus.on("terminal.opened", ({ terminal }) =>
      hub.publish(cell(terminal.cellId), { type: "terminal.opened", terminal }),
    ),
    bus.on("terminal.updated", ({ terminal }) =>
      hub.publish(cell(terminal.cellId), { type: "terminal.updated", terminal }),
    ),
    bus.on("terminal.closed", ({ terminal }) =>
      hub.publish(cell(terminal.cellId), { type: "terminal.closed", termId: terminal.termId }),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
