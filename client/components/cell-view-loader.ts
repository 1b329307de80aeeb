import { Store } from "../store.ts";

/**
 * The cell view (and xterm with it) is a chunk of its own: the sidebar and checklist paint without it.
 * It is fetched when a ready cell is first shown, or once the first screen is up and the browser idle.
 * A fetch that fails (Hive restarting, the network down) is tried again after a pause, doubling up to
 * RETRY_MAX_MS: a page that loaded just before an outage must not show a blank cell until reloaded.
 */
let chunk: Promise<unknown> | undefined;

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 8_000;

/** Why the last fetch of the chunk failed, while it is being tried again; undefined otherwise. */
export const cellViewLoadError = new Store<string | undefined>(undefined);

export function loadCellView(): Promise<unknown> {
  chunk ??= (async () => {
    for (let pause = RETRY_FIRST_MS; ; pause = Math.min(2 * pause, RETRY_MAX_MS)) {
      try {
        const loaded = await import("./cell-view.ts");
        cellViewLoadError.set(undefined);
        return loaded;
      } catch (err) {
        cellViewLoadError.set((err as Error).message);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  })();
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
