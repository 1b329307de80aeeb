import type { Terminal } from "@xterm/xterm";

/** The part of xterm 6's Viewport this reaches into (not public API; xterm is pinned). */
interface ViewportInternals {
  _sync(ydisp?: number): void;
  _renderService: { addRefreshCallback(callback: () => void): number };
}

/**
 * xterm 6 brings its scrollbar up to date for every line the buffer scrolls, at once (Viewport calls
 * `_sync()` on each buffer scroll). Once the scrollback is full that changes nothing, but while it still
 * grows each line changes the scrollbar's extent: taking in its first 10,000 lines, a fresh terminal in
 * Chromium spent 282-878 ms, one 32 KB write up to 139 ms, and nothing else on the page ran meanwhile
 * (the echo of typing in another terminal waited). xterm 2 had the same bug (xtermjs/xterm.js#444).
 * This brings the scrollbar up to date once per frame instead, as xterm already does after a resize
 * (`Viewport.queueSync`): then 159-294 ms, at most 67 ms per write, and a full scrollback took 125-156 ms.
 * Answers whether it could: on an xterm without these internals nothing changes.
 */
export function syncScrollbarOncePerFrame(term: Terminal): boolean {
  const viewport = (term as unknown as { _core?: { _viewport?: ViewportInternals } })._core?._viewport;
  if (typeof viewport?._sync !== "function" || !viewport._renderService?.addRefreshCallback) return false;
  const sync = viewport._sync;
  let due = false;
  viewport._sync = function (this: ViewportInternals, ...args: [number?]) {
    // queueSync's frame callback passes the row to show: that one runs as it is.
    if (args.length > 0) return sync.apply(this, args);
    if (due) return;
    due = true;
    this._renderService.addRefreshCallback(() => {
      due = false;
      sync.call(this);
    });
  };
  return true;
}
