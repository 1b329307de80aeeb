import type { Socket } from "node:net";

/**
 * The PTY host's sending side of one web-server connection, in two lanes: interactive frames (echo of
 * typing, answers, exits) go ahead of bulk output, because only WRITE_WINDOW_BYTES are handed to the
 * socket at a time. A terminal's frames keep their order: once it has bulk frames waiting, its next
 * frames queue behind them. When bulk output piles up past BULK_HIGH_BYTES (a web server that does not
 * read), `onFull(true)` pauses the shells until it is back under BULK_LOW_BYTES.
 */

const WRITE_WINDOW_BYTES = 128 * 1024;
const BULK_HIGH_BYTES = 4 * 1024 * 1024;
const BULK_LOW_BYTES = 1024 * 1024;

interface Item {
  frame: Buffer;
  num: number | undefined;
}

export class Outbox {
  private readonly urgent: Item[] = [];
  private readonly bulk: Item[] = [];
  private readonly inBulk = new Map<number, number>();
  private bulkBytes = 0;
  private full = false;

  constructor(
    private readonly sock: Socket,
    private readonly onFull: (full: boolean) => void,
  ) {
    sock.on("drain", () => this.pump());
  }

  /** `num`: the terminal the frame belongs to, if any (its frames stay in order). */
  send(frame: Buffer, num: number | undefined, interactive: boolean): void {
    if (this.sock.destroyed) return;
    const item = { frame, num };
    if (!interactive || (num !== undefined && this.inBulk.has(num))) {
      this.bulk.push(item);
      this.bulkBytes += frame.length;
      if (num !== undefined) this.inBulk.set(num, (this.inBulk.get(num) ?? 0) + 1);
      if (!this.full && this.bulkBytes > BULK_HIGH_BYTES) {
        this.full = true;
        this.onFull(true);
      }
    } else this.urgent.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.sock.writableLength < WRITE_WINDOW_BYTES && !this.sock.destroyed) {
      let item = this.urgent.shift();
      if (!item) {
        item = this.bulk.shift();
        if (!item) return;
        this.bulkBytes -= item.frame.length;
        if (item.num !== undefined) {
          const n = this.inBulk.get(item.num) ?? 1;
          if (n <= 1) this.inBulk.delete(item.num);
          else this.inBulk.set(item.num, n - 1);
        }
        if (this.full && this.bulkBytes < BULK_LOW_BYTES) {
          this.full = false;
          this.onFull(false);
        }
      }
      this.sock.write(item.frame);
    }
  }
}
