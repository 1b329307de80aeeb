import type { Store } from "../store.ts";

/**
 * The cell view (and xterm with it) is a chunk of its own: the sidebar and checklist paint without it.
 * It is fetched when a ready cell is first shown, or once the first screen is up and the browser idle.
 */
let chunk: Promise<unknown> | undefined;

export function loadCellView(): Promise<unknown> {
  chunk ??= import("./cell-view.ts");
  return chunk;
}

/** Prefetches the chunk after the cell list first arrives (or after a while if it never does). */
export function prefetchCellViewAfter<T>(cells: Store<ReadonlyMap<string, T>>): () => void {
  let done = false;
  const fire = () => {
    if (done) return;
    done = true;
    off();
    clearTimeout(timer);
    if (typeof requestIdleCallback === "function")
      requestIdleCallback(() => void loadCellView(), { timeout: 3000 });
    else void loadCellView();
  };
  const off = cells.subscribe((v) => {
    if (v.size > 0) fire();
  });
  const timer = setTimeout(fire, 5000);
  return () => {
    off();
    clearTimeout(timer);
  };
}
