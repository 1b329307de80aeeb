import { forgetDrafts } from "../drafts.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";
import { CellStore } from "./cell.ts";
import { LayoutStore } from "./layout.ts";
import { TerminalsStore } from "./terminals.ts";

/** The stores of the cell on screen. */
export interface OpenCell {
  cellId: string;
  cell: CellStore;
  terminals: TerminalsStore;
}

/**
 * The one cell a tab shows: its channel and terminals are followed while it is on screen and released
 * when another screen opens. `current` is set again on every change of the cell, so a component
 * listening to it re-renders.
 */
export class OpenCellStore {
  readonly current = new Store<OpenCell | undefined>(undefined);
  private release: (() => void) | undefined;

  constructor(
    private readonly socket: HiveSocket,
    /** The cell was deleted while on screen (here or from another window); its name, if known. */
    private readonly onRemoved: (cellId: string, name: string | undefined) => void,
  ) {}

  show(cellId: string): void {
    if (this.current.value?.cellId === cellId) return;
    this.close();
    const cell = new CellStore(this.socket, cellId);
    const terminals = new TerminalsStore(this.socket, cell);
    const open: OpenCell = { cellId, cell, terminals };
    const off = cell.detail.subscribe((d) => {
      if (d.removed) {
        LayoutStore.forget(cellId);
        forgetDrafts(cellId);
        this.onRemoved(cellId, d.cell?.name);
      } else if (this.current.value?.cellId === cellId) this.current.set({ ...open });
    });
    cell.start();
    this.current.set(open);
    this.release = () => {
      off();
      cell.stop();
      terminals.dispose();
    };
  }

  close(): void {
    this.release?.();
    this.release = undefined;
    if (this.current.value) this.current.set(undefined);
  }
}
