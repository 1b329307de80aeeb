import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href.replace(
  /\.cjs$/,
  ".mjs",
);
const WORKER_URL = new URL("./screen-worker.ts", import.meta.url).href;

/** Messages to the screen worker (see screen-worker.ts). */
export type ScreenRequest =
  | { op: "create"; num: number; cols: number; rows: number; lines: number }
  | { op: "write"; num: number; data: Uint8Array }
  | { op: "resize"; num: number; cols: number; rows: number }
  | { op: "serialize"; num: number; req: number }
  | { op: "dispose"; num: number };
export type ScreenReply =
  | { op: "serialized"; req: number; screen: string }
  | { op: "parsed"; num: number; bytes: number };

/** The PTY host's handle on its screen worker: one worker holds every terminal's screen. */
export class Screens {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (screen: string) => void>();
  private nextReq = 1;

  /** `onParsed`: this many bytes of a terminal's output are now on its screen. */
  constructor(private readonly onParsed: (num: number, bytes: number) => void) {
    // Loader hooks of the main thread do not reach workers: the worker registers tsx itself.
    const bootstrap = `import { register } from ${JSON.stringify(TSX_API)}; register(); await import(${JSON.stringify(WORKER_URL)});`;
    this.worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
    this.worker.on("message", (msg: ScreenReply) => {
      if (msg.op === "parsed") {
        this.onParsed(msg.num, msg.bytes);
        return;
      }
      this.waiting.get(msg.req)?.(msg.screen);
      this.waiting.delete(msg.req);
    });
    this.worker.on("error", (err) => {
      console.error("pty-host: screen worker failed", err);
      for (const resolve of this.waiting.values()) resolve("");
      this.waiting.clear();
    });
  }

  create(num: number, cols: number, rows: number, lines: number): void {
    this.post({ op: "create", num, cols, rows, lines });
  }

  /**
   * `data` is copied to the worker (it is also on its way to the web server): the copy is allocated on
   * the worker's heap, which keeps the main thread's garbage, and its pauses, smaller.
   */
  write(num: number, data: Uint8Array): void {
    this.post({ op: "write", num, data });
  }

  resize(num: number, cols: number, rows: number): void {
    this.post({ op: "resize", num, cols, rows });
  }

  /** The screen once every write posted so far is parsed. */
  serialize(num: number): Promise<string> {
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.waiting.set(req, resolve);
      this.post({ op: "serialize", num, req });
    });
  }

  dispose(num: number): void {
    this.post({ op: "dispose", num });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private post(msg: ScreenRequest): void {
    this.worker.postMessage(msg);
  }
}
