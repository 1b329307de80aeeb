import { z } from "zod";
import { Store } from "../store.ts";

/**
 * A cell view's arrangement, remembered per cell in this browser: pane sizes, which panes are closed, and
 * which terminal is in front (terminal names are Hive's, shared by every browser).
 */
export const CellLayoutSchema = z.object({
  /** Fractions of the width, one per visible pane, summing to 1. */
  sizes: z.array(z.number().min(0).max(1)).default([]),
  activeTermId: z.string().nullable().default(null),
  /** Panes beside the terminals that a person closed (ids from cell-panes.ts). */
  hidden: z.array(z.string()).default([]),
});
export type CellLayout = z.infer<typeof CellLayoutSchema>;

const KEY_PREFIX = "hive.layout.";
/** Layouts of cells not opened for this long are forgotten, so storage does not grow without bound. */
const MAX_REMEMBERED = 200;

export class LayoutStore {
  readonly layout: Store<CellLayout>;

  constructor(readonly cellId: string) {
    this.layout = new Store(read(cellId));
  }

  update(fn: (l: CellLayout) => CellLayout): void {
    this.layout.update(fn);
    write(this.cellId, this.layout.value);
  }

  /** Forgets a deleted cell's layout. */
  static forget(cellId: string): void {
    localStorage.removeItem(KEY_PREFIX + cellId);
  }
}

function read(cellId: string): CellLayout {
  try {
    const raw = localStorage.getItem(KEY_PREFIX + cellId);
    const parsed = CellLayoutSchema.safeParse(raw ? JSON.parse(raw) : {});
    return parsed.success ? parsed.data : CellLayoutSchema.parse({});
  } catch {
    return CellLayoutSchema.parse({});
  }
}

function write(cellId: string, layout: CellLayout): void {
  try {
    localStorage.setItem(KEY_PREFIX + cellId, JSON.stringify({ ...layout, at: Date.now() }));
    prune();
  } catch {
    // Storage full or disabled: the layout simply is not remembered.
  }
}

function prune(): void {
  const keys = Object.keys(localStorage).filter((k) => k.startsWith(KEY_PREFIX));
  if (keys.length <= MAX_REMEMBERED) return;
  const at = (k: string) => {
    try {
      return Number(JSON.parse(localStorage.getItem(k) ?? "{}").at) || 0;
    } catch {
      return 0;
    }
  };
  const oldest = keys.sort((a, b) => at(a) - at(b)).slice(0, keys.length - MAX_REMEMBERED);
  for (const k of oldest) localStorage.removeItem(k);
}
