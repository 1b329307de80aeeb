import {
  closeSync,
  copyFileSync,
  type FSWatcher,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  truncateSync,
  watch,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { plainTail } from "../../shared/plain-output.ts";
import { Screen } from "../terminals/host/screen.ts";

/** Past this size the log is copied to `<file>.1` and truncated: at most twice this on disk per service. */
export const LOG_MAX_BYTES = 5 * 1024 * 1024;
/** Lines the screen keeps for replay; memory stays bounded like a shell's. */
const SCROLLBACK_LINES = 2000;
/** How much of an existing log is replayed into a fresh screen (after a Hive restart). */
const REPLAY_BYTES = 64 * 1024;
/** inotify can miss writes across rotation; a slow poll catches up. */
const POLL_MS = 1000;
const READ_CHUNK = 64 * 1024;

/**
 * One service's output. The service writes straight into the file (its stdout and stderr are the
 * file), so it keeps running and logging while Hive is down and can be adopted afterwards. Hive tails
 * the file into a headless terminal screen that replays to late subscribers, like a shell's.
 */
export class ServiceLog {
  // The shells' screen: the same bounded scrollback and replay for a service's log terminal.
  private readonly screen = new Screen({ cols: 160, rows: 40, scrollbackLines: SCROLLBACK_LINES });
  private readonly listeners = new Set<(text: string) => void>();
  private offset = 0;
  private lastWrite: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    readonly file: string,
    private readonly maxBytes = LOG_MAX_BYTES,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, "a")); // the watcher needs the file to exist
    const size = sizeOf(file);
    this.offset = Math.max(0, size - REPLAY_BYTES);
    this.pump();
    this.watcher = watch(file, { persistent: false }, () => this.pump());
    this.watcher.on("error", () => undefined);
    this.timer = setInterval(() => this.pump(), POLL_MS);
    this.timer.unref();
  }

  /** A file descriptor for a child's stdout and stderr (append mode, so truncation is safe). */
  openForChild(): number {
    this.rotateIfLarge();
    return openSync(this.file, "a");
  }

  /** Writes a line of Hive's own (start, exit) into the log, marked so it stands apart from the service's. */
  note(line: string): void {
    if (this.disposed) return;
    try {
      const fd = openSync(this.file, "a");
      try {
        // Written synchronously so the note lands in order with what follows it.
        writeSync(fd, Buffer.from(`\x1b[2m[hive] ${line}\x1b[0m\n`));
      } finally {
        closeSync(fd);
      }
    } catch {
      return; // a note is a courtesy; a vanished log directory must not break supervision
    }
    this.pump();
  }

  onOutput(listener: (text: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The screen with its scrollback, as escape sequences a fresh terminal can replay. It holds exactly
   * the output handed to listeners so far: a listener added right after it resolves (same tick) misses
   * nothing and sees nothing twice.
   */
  async serialize(): Promise<string> {
    // The screen parses asynchronously; wait until every write queued so far is on it.
    for (let w = this.lastWrite; ; w = this.lastWrite) {
      await w;
      if (w === this.lastWrite) return this.screen.serialize();
    }
  }

  /** The last `bytes` of the file as text. */
  tail(bytes: number): string {
    return fileTail(this.file, bytes);
  }

  /** The last lines of output, for an error's detail. */
  tailLines(lines = 30): string {
    return plainTail(this.tail(8 * 1024), lines);
  }

  /** Reads everything appended since the last read and hands it on. */
  pump(): void {
    if (this.disposed) return;
    const size = sizeOf(this.file);
    if (size < this.offset) this.offset = 0; // truncated by rotation
    while (this.offset < size) {
      const buf = readRange(this.file, this.offset, Math.min(READ_CHUNK, size - this.offset));
      if (buf.length === 0) break;
      this.offset += buf.length;
      const text = buf.toString("utf8");
      this.lastWrite = this.screen.write(forTerminal(text));
      for (const l of this.listeners) l(text);
    }
    this.rotateIfLarge();
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    clearInterval(this.timer);
    this.listeners.clear();
    this.screen.dispose();
  }

  private rotateIfLarge(): void {
    if (sizeOf(this.file) <= this.maxBytes) return;
    copyFileSync(this.file, `${this.file}.1`);
    truncateSync(this.file, 0);
    this.offset = 0;
  }
}

/** A pipe's bare \n would leave the cursor in its column on a terminal screen. */
export function forTerminal(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** The last `bytes` of a file as text; "" when it does not exist. */
export function fileTail(file: string, bytes: number): string {
  const size = sizeOf(file);
  const start = Math.max(0, size - bytes);
  return readRange(file, start, size - start).toString("utf8");
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readRange(file: string, start: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, start);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
