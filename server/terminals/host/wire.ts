/**
 * Framing of the unix socket between the web server and the PTY host: [u32 length][u8 kind][body].
 * Control messages are JSON; output travels as raw bytes with its terminal number and stream offset,
 * so the web server can line output up with a screen snapshot taken at a known offset.
 */

const KIND_JSON = 1;
const KIND_DATA = 2;
/** A snapshot of 10,000 long colored lines is a few MB; anything far bigger is a broken peer. */
const MAX_WIRE_FRAME = 64 * 1024 * 1024;

/** Output flags. */
export const DATA_INTERACTIVE = 1;

export interface DataMessage {
  num: number;
  /** Stream offset of the first byte: total output bytes of this terminal before it. */
  offset: number;
  flags: number;
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

export function encodeData(num: number, offset: number, flags: number, bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + 13 + bytes.length);
  out.writeUInt32BE(1 + 13 + bytes.length, 0);
  out[4] = KIND_DATA;
  out.writeUInt32BE(num, 5);
  out.writeDoubleBE(offset, 9);
  out[17] = flags;
  out.set(bytes, 18);
  return out;
}

/** Splits a byte stream into messages; feed it every chunk the socket reads. */
export class WireDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onJson: (msg: unknown) => void,
    private readonly onData: (msg: DataMessage) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    while (this.buf.length - pos >= 4) {
      const len = this.buf.readUInt32BE(pos);
      if (len < 1 || len > MAX_WIRE_FRAME) throw new Error(`PTY host frame of ${len} bytes is out of bounds`);
      if (this.buf.length - pos - 4 < len) break;
      const kind = this.buf[pos + 4];
      const body = this.buf.subarray(pos + 5, pos + 4 + len);
      pos += 4 + len;
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
    this.buf = pos === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }
}
