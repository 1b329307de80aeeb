/**
 * Reusable buffers for terminal output frames. A flood sends a few hundred frames of up to 128 KB a
 * second; allocated afresh, their memory (outside V8's heap, but counted by it) made V8 run a full
 * collection every 150-250 ms, about a third of the server's time in bench/terminal-throughput.
 */

const SLAB_BYTES = 256 * 1024;
/**
 * Smaller frames (typing, a prompt) are allocated as before: a pooled buffer is never more than four
 * times what it holds, so output held for a slow tab in small pieces cannot pin slabs by the dozen.
 */
const MIN_POOLED_BYTES = SLAB_BYTES / 4;
/** Free slabs kept; flow control keeps fewer than this in flight per terminal. */
const MAX_FREE_SLABS = 32;

const free: ArrayBuffer[] = [];

/** A buffer of at least `size` bytes; hand it back with `giveFrame` once nothing refers to it. */
export function takeFrame(size: number): Uint8Array {
  if (size < MIN_POOLED_BYTES || size > SLAB_BYTES) return Buffer.allocUnsafe(size);
  return new Uint8Array(free.pop() ?? new ArrayBuffer(SLAB_BYTES));
}

/** Whether the frame is (a view of) a pooled buffer, one that `giveFrame` takes back. */
export function isPooled(frame: Uint8Array): boolean {
  return frame.buffer.byteLength === SLAB_BYTES;
}

export function giveFrame(frame: Uint8Array): void {
  if (isPooled(frame) && free.length < MAX_FREE_SLABS) free.push(frame.buffer as ArrayBuffer);
}
