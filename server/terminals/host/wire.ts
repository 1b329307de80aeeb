/**
 * Framing of the unix socket between the web server and the PTY host: [u32 length][u8 kind][body].
 * Control messages are JSON; output travels as raw bytes with its terminal number and stream offset,
 * so the web server can line output up with a screen snapshot taken at a known offset.
 */

const KIND_JSON = 1;
const KIND_DATA = 2;
/** A snapshot of 10,000 long colored lines is a few MB; anything far bigger is a broken peer. */
const MAX_WIRE_FRAME = 64 * 1024 * 1024;
/** The buffer for a frame cut in two is reused for the next one, unless it grew past this. */
const KEEP_PARTIAL_BYTES = 1024 * 1024;

/** Output flags. */
export const DATA_INTERACTIVE = 1;

export interface DataMessage {
  num: number;
  /** Stream offset of the first byte: total output bytes of this terminal before it. */
  offset: number;
  flags: number;
  /** Valid only while the handler runs (it may be a view of a reused read buffer): copy to keep. */
  bytes: Buffer;
}

export function encodeJson(msg: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(msg));
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = KIND_JSON;
  body.copy(out, 5);
  return out;
}

/** Bytes in front of the output in a data frame: output gathered behind this much room needs no copy. */
export const DATA_HEADER_BYTES = 18;

/** Fills in the header of a data frame whose output already sits after DATA_HEADER_BYTES of room. */
export function sealData(frame: Uint8Array, num: number, offset: number, flags: number): Buffer {
  const out = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  out.writeUInt32BE(frame.byteLength - 4, 0);
  out[4] = KIND_DATA;
  out.writeUInt32BE(num, 5);
  out.writeDoubleBE(offset, 9);
  out[17] = flags;
  return out;
}

/**
 * Splits a byte stream into messages; feed it every chunk the socket reads. Nothing of a chunk is kept
 * once `push` returns (a frame cut in two is copied), so the socket can read into one reused buffer:
 * output then costs no allocation per read, and the garbage collections that went with it.
 */
export class WireDecoder {
  /** The start of a frame cut off at the end of the last chunk. */
  private partial: Buffer = Buffer.alloc(0);
  private have = 0;

  constructor(
    private readonly onJson: (msg: unknown) => void,
    private readonly onData: (msg: DataMessage) => void,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.have > 0) {
      pos = this.fill(chunk, 0, 4);
      if (this.have < 4) return;
      const total = 4 + frameLength(this.partial, 0);
      pos = this.fill(chunk, pos, total);
      if (this.have < total) return;
      this.have = 0;
      this.frame(this.partial, 0, total);
    }
    while (chunk.length - pos >= 4) {
      const total = 4 + frameLength(chunk, pos);
      if (chunk.length - pos < total) break;
      this.frame(chunk, pos, pos + total);
      pos += total;
    }
    if (pos < chunk.length) {
      const rest = chunk.length - pos;
      const need = Math.max(rest, rest >= 4 ? 4 + frameLength(chunk, pos) : 4);
      if (this.partial.length < need || this.partial.length > KEEP_PARTIAL_BYTES)
        this.partial = Buffer.allocUnsafe(need);
      chunk.copy(this.partial, 0, pos);
      this.have = rest;
    }
  }

  /** Copies chunk bytes from `pos` until the partial frame holds `upTo` bytes; answers the new position. */
  private fill(chunk: Buffer, pos: number, upTo: number): number {
    if (this.partial.length < upTo) {
      const grown = Buffer.allocUnsafe(upTo);
      this.partial.copy(grown, 0, 0, this.have);
      this.partial = grown;
    }
    const n = Math.max(0, Math.min(upTo - this.have, chunk.length - pos));
    chunk.copy(this.partial, this.have, pos, pos + n);
    this.have += n;
    return pos + n;
  }

  private frame(buf: Buffer, start: number, end: number): void {
    const kind = buf[start + 4];
    const body = buf.subarray(start + 5, end);
    if (kind === KIND_JSON) this.onJson(JSON.parse(body.toString("utf8")));
    else if (kind === KIND_DATA) {
      this.onData({
        num: body.readUInt32BE(0),
        offset: body.readDoubleBE(4),
        flags: body[12]!,
        bytes: body.subarray(13),
      });
    } else throw new Error(`PTY host frame of unknown kind ${kind}`);
  }
}

function frameLength(buf: Buffer, at: number): number {
  const len = buf.readUInt32BE(at);
  if (len < 1 || len > MAX_WIRE_FRAME) throw new Error(`PTY host frame of ${len} bytes is out of bounds`);
  return len;
}
