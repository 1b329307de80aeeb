import type { Cell, Workspace } from "../shared/records.ts";
import type { Route } from "./router.ts";

/** Where "new cell" goes: the workspace of the cell on screen, else the first one. */
export function newCellRoute(
  route: Route,
  cells: ReadonlyMap<string, Cell>,
  workspaces: Workspace[],
): Route | undefined {
  const current = route.name === "cell" ? cells.get(route.cellId)?.workspaceId : undefined;
  const workspaceId = current ?? workspaces[0]?.id;
  return workspaceId ? { name: "new-cell", workspaceId } : undefined;
}

/** The next (or previous) cell in sidebar order, wrapping around; from another screen, the first (or last). */
export function stepCellRoute(route: Route, order: Cell[], delta: 1 | -1): Route | undefined {
  if (order.length === 0) return undefined;
  const i = route.name === "cell" ? order.findIndex((c) => c.id === route.cellId) : -1;
  const from = i < 0 && delta < 0 ? 0 : i;
  const next = order[(from + delta + order.length) % order.length];
  return next ? { name: "cell", cellId: next.id } : undefined;
}
