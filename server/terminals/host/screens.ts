import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { NOTHING_KNOWN, type RestState } from "../../../shared/rest-tracker.ts";

const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href.replace(
  /\.cjs$/,
  ".mjs",
);
const WORKER_URL = new URL("./screen-worker.ts", import.meta.url).href;

export interface Serialized {
  screen: string;
  rest: RestState;
}

/** Messages to the screen worker (see screen-worker.ts). */
export type ScreenRequest =
  | { op: "create"; num: number; cols: number; rows: number; lines: number }
  /** `lent`: the data's buffer is the main thread's, to be given back once used (see Screens.write). */
  | { op: "write"; num: number; data: Uint8Array; lent: boolean }
  | { op: "resize"; num: number; cols: number; rows: number }
  | { op: "serialize"; num: number; req: number }
  | { op: "dispose"; num: number };
export type ScreenReply =
  | { op: "serialized"; req: number; screen: string; rest: RestState }
  | { op: "parsed"; num: number; bytes: number }
  | { op: "free"; buffers: ArrayBuffer[] };

/**
 * A flood's output goes to the worker in batches of up to this much, in buffers the worker lends back
 * once their output is parsed or dropped. One message per 128 KB batch of the PTY cost the main thread
 * more than its copy; a fresh buffer for each made both threads collect garbage several times a second.
 */
const BATCH_BYTES = 1024 * 1024;
/** Output from this size on starts a batch; smaller output (typing, a prompt) goes at once. */
const MIN_BATCH_START_BYTES = 16 * 1024;
/** A batch goes this long after it started at the latest: the screen must not lag far behind. */
const BATCH_MS = 15;
/**
 * A batch filled less than this goes as a copy of its own: waiting output of a trickle must not hold
 * large buffers.
 */
const MIN_LENT_BYTES = BATCH_BYTES / 4;
const FREE_BUFFERS = 8;

/** The PTY host's handle on its screen worker: one worker holds every terminal's screen. */
export class Screens {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (serialized: Serialized) => void>();
  /** Output gathered per terminal, not yet sent. */
  private readonly batches = new Map<number, { buffer: ArrayBuffer; used: number }>();
  private batchTimer: NodeJS.Timeout | undefined;
  /** Batch buffers back from the worker (or never sent), to use again. */
  private free: ArrayBuffer[] = [];
  private nextReq = 1;

  /** `onParsed`: this many bytes of a terminal's output are now on its screen. */
  constructor(private readonly onParsed: (num: number, bytes: number) => void) {
    // Loader hooks of the main thread do not reach workers: the worker registers tsx itself.
    const bootstrap = `import { register } from ${JSON.stringify(TSX_API)}; register(); await import(${JSON.stringify(WORKER_URL)});`;
    this.worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
    this.worker.on("message", (msg: ScreenReply) => {
      if (msg.op === "parsed") this.onParsed(msg.num, msg.bytes);
      else if (msg.op === "free") for (const b of msg.buffers) this.giveBack(b);
      else {
        this.waiting.get(msg.req)?.(msg);
        this.waiting.delete(msg.req);
      }
    });
    this.worker.on("error", (err) => {
      console.error("pty-host: screen worker failed", err);
      for (const resolve of this.waiting.values()) resolve({ screen: "", rest: NOTHING_KNOWN });
      this.waiting.clear();
    });
  }

  create(num: number, cols: number, rows: number, lines: number): void {
    this.post({ op: "create", num, cols, rows, lines });
  }

  /** `data` is copied (it is also on its way to the web server). */
  write(num: number, data: Uint8Array): void {
    const batch = this.batches.get(num);
    if (batch && batch.used + data.length <= BATCH_BYTES) {
      new Uint8Array(batch.buffer, batch.used).set(data);
      batch.used += data.length;
      return;
    }
    if (batch) this.send(num);
    if (data.length < MIN_BATCH_START_BYTES || data.length > BATCH_BYTES) {
      const copy = new Uint8Array(data);
      this.worker.postMessage({ op: "write", num, data: copy, lent: false } satisfies ScreenRequest, [
        copy.buffer,
      ]);
      return;
    }
    const buffer = this.free.pop() ?? new ArrayBuffer(BATCH_BYTES);
    new Uint8Array(buffer).set(data);
    this.batches.set(num, { buffer, used: data.length });
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined;
      for (const n of [...this.batches.keys()]) this.send(n);
    }, BATCH_MS);
  }

  resize(num: number, cols: number, rows: number): void {
    this.send(num);
    this.post({ op: "resize", num, cols, rows });
  }

  /** The screen once every write so far is parsed, and where that output left it. */
  serialize(num: number): Promise<Serialized> {
    this.send(num);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.waiting.set(req, resolve);
      this.post({ op: "serialize", num, req });
    });
  }

  dispose(num: number): void {
    const batch = this.batches.get(num);
    if (batch) this.giveBack(batch.buffer);
    this.batches.delete(num);
    this.post({ op: "dispose", num });
  }

  async terminate(): Promise<void> {
    clearTimeout(this.batchTimer);
    await this.worker.terminate();
  }

  /** Sends the terminal's batch, if any. */
  private send(num: number): void {
    const batch = this.batches.get(num);
    if (!batch) return;
    this.batches.delete(num);
    const lent = batch.used >= MIN_LENT_BYTES;
    const data = new Uint8Array(lent ? batch.buffer : batch.buffer.slice(0, batch.used), 0, batch.used);
    this.worker.postMessage({ op: "write", num, data, lent } satisfies ScreenRequest, [data.buffer]);
    if (!lent) this.giveBack(batch.buffer);
  }

  private giveBack(buffer: ArrayBuffer): void {
    if (this.free.length < FREE_BUFFERS) this.free.push(buffer);
  }

  private post(msg: ScreenRequest): void {
    this.worker.postMessage(msg);
  }
}
