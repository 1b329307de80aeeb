import { z } from "zod";
import { displayName } from "./display-name.ts";
import { TerminalKindSchema } from "./terminals.ts";

/**
 * The one socket's frames. Control frames are JSON text, one schema each; terminal output is binary
 * (see encodeTermData). Adding a channel kind means adding its name to CHANNEL_KINDS and registering a
 * provider for it on the server hub.
 */

export const CHANNEL_KINDS = [
  "workspaces",
  "workspace",
  "cell",
  "term",
  "agent",
  "files",
  "services",
  /** A service's output as a read-only terminal: `svclog:<cellId>_<service>`, same frames as `term:`. */
  "svclog",
  "inbox",
] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const ChannelSchema = z
  .string()
  .max(200)
  .regex(
    new RegExp(`^(${CHANNEL_KINDS.join("|")}):[A-Za-z0-9_-]{1,100}$`),
    "channel must look like 'cell:<id>'",
  );
export type Channel = z.infer<typeof ChannelSchema>;

export function channelOf(kind: ChannelKind, id: string): Channel {
  return `${kind}:${id}`;
}

export function parseChannel(channel: Channel): { kind: ChannelKind; id: string } {
  const i = channel.indexOf(":");
  return { kind: channel.slice(0, i) as ChannelKind, id: channel.slice(i + 1) };
}

/** Largest JSON frame a client may send; longer ones get an error frame. */
export const MAX_CLIENT_FRAME_BYTES = 256 * 1024;

const ref = z.string().max(100).optional();
const termId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const dims = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) };

export const ClientFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("subscribe"),
    channel: ChannelSchema,
    since: z.number().int().min(0).optional(),
    ref,
  }),
  z.object({ type: z.literal("unsubscribe"), channel: ChannelSchema, ref }),
  z.object({
    type: z.literal("term.open"),
    cellId: z.string().min(1).max(64),
    name: displayName(80).optional(),
    /** Default "shell". */
    kind: TerminalKindSchema.optional(),
    ...dims,
    ref,
  }),
  z.object({ type: z.literal("term.input"), termId, data: z.string().max(64 * 1024), ref }),
  z.object({ type: z.literal("term.resize"), termId, ...dims, ref }),
  /** Refused (TERMINAL_BUSY) while the shell runs a program in the foreground, unless `force`. */
  z.object({ type: z.literal("term.close"), termId, force: z.boolean().optional(), ref }),
  /** Names a terminal for every browser (kept by Hive across restarts); the cell channel carries the name. */
  z.object({ type: z.literal("term.rename"), termId, name: displayName(80), ref }),
  /** The client has written this many bytes of a terminal's output into its screen (flow control). */
  z.object({ type: z.literal("term.ack"), termId, bytes: z.number().int().min(0) }),
  /**
   * Lines of a terminal's output the client can still show (its scrollback, screen and cursor line): output
   * waiting for the client beyond them may be skipped (see server/terminals/term-flow.ts). Sent before the
   * terminal's snapshot comes; it applies from the next one on.
   */
  z.object({ type: z.literal("term.view"), termId, keepLines: z.number().int().min(1).max(10_000_000) }),
  z.object({ type: z.literal("ping"), t: z.number().optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export const ServerFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("snapshot"),
    channel: ChannelSchema,
    seq: z.number().int(),
    state: z.unknown(),
  }),
  z.object({ type: z.literal("event"), channel: ChannelSchema, seq: z.number().int(), event: z.unknown() }),
  z.object({ type: z.literal("term.opened"), ref, termId, cellId: z.string() }),
  /** Answers a `term.close` that carried a ref: the shell is ending (its channel then says `closed`). */
  z.object({ type: z.literal("term.closed"), ref, termId }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string(), ref }),
  z.object({ type: z.literal("pong"), t: z.number().optional() }),
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/** Binary frame kinds (first byte). */
export const BINARY_KIND = { termData: 1 } as const;

export const TERM_DATA_HEADER_BYTES = 5;

/**
 * Binary terminal output: [kind u8][numeric channel id u32 BE][raw bytes], written at the start of `into`
 * (which must have room: the server builds frames in reused buffers); answers the frame.
 */
export function encodeTermData(numericId: number, bytes: Uint8Array, into: Uint8Array): Uint8Array {
  const out = into.subarray(0, TERM_DATA_HEADER_BYTES + bytes.length);
  out[0] = BINARY_KIND.termData;
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(1, numericId);
  out.set(bytes, TERM_DATA_HEADER_BYTES);
  return out;
}

export function decodeBinaryFrame(buf: Uint8Array): { kind: number; numericId: number; payload: Uint8Array } {
  if (buf.length < 5) throw new Error("binary frame shorter than its 5-byte header");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { kind: buf[0]!, numericId: view.getUint32(1), payload: buf.subarray(5) };
}

/** WebSocket close codes Hive uses, in the 4000-4999 private range. */
export const CLOSE_CODES = {
  unauthorized: 4401,
  forbiddenOrigin: 4403,
  tooManyBadFrames: 4400,
  sessionRevoked: 4410,
  serverRestart: 4012,
  /** The client read too slowly: more than the server will queue for one socket was waiting. */
  tooSlow: 4408,
} as const;

/** Error codes carried by `error` frames. */
export const FRAME_ERRORS = [
  "BAD_FRAME",
  "FRAME_TOO_LARGE",
  "UNKNOWN_CHANNEL",
  "NOT_FOUND",
  "TERMINAL_CLOSED",
  "UNEXPECTED_BINARY",
  "INTERNAL",
] as const;
