import { describe, expect, it } from "vitest";
import { DATA_HEADER_BYTES, encodeJson, sealData, WireDecoder } from "../../server/terminals/host/wire.ts";

function encodeData(num: number, offset: number, flags: number, bytes: Buffer): Buffer {
  const frame = Buffer.alloc(DATA_HEADER_BYTES + bytes.length);
  bytes.copy(frame, DATA_HEADER_BYTES);
  return sealData(frame, num, offset, flags);
}

describe("the PTY host's wire framing", () => {
  it("decodes frames cut anywhere, read into one reused buffer", () => {
    const frames: Buffer[] = [];
    const expected: unknown[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) {
        const msg = { t: "exit", num: i, exitCode: i % 7, signal: null };
        frames.push(encodeJson(msg));
        expected.push(msg);
      } else {
        const bytes = Buffer.alloc((i * 7919) % 70_000, i % 251);
        frames.push(encodeData(i, i * 1000, i % 2, bytes));
        expected.push({ num: i, offset: i * 1000, flags: i % 2, bytes: bytes.toString("hex") });
      }
    }
    const stream = Buffer.concat(frames);
    const got: unknown[] = [];
    const decoder = new WireDecoder(
      (msg) => got.push(msg),
      // What the handler keeps, it copies: the bytes are a view of the read buffer.
      (msg) =>
        got.push({ num: msg.num, offset: msg.offset, flags: msg.flags, bytes: msg.bytes.toString("hex") }),
    );
    const readBuffer = Buffer.alloc(64 * 1024);
    let seed = 11;
    for (let at = 0; at < stream.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const n = Math.min(stream.length - at, 1 + (seed % (seed % 5 === 0 ? 3 : readBuffer.length)));
      stream.copy(readBuffer, 0, at, at + n);
      decoder.push(readBuffer.subarray(0, n));
      // The socket reads the next bytes over the same memory.
      readBuffer.fill(0xee);
      at += n;
    }
    expect(got).toEqual(expected);
  });

  it("refuses a frame whose length is out of bounds", () => {
    const decoder = new WireDecoder(
      () => {},
      () => {},
    );
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(0x7fffffff, 0);
    expect(() => decoder.push(bad)).toThrow(/out of bounds/);
  });
});
