import { z } from "zod";

/**
 * Terminals as the socket shows them. A `term:<id>` channel starts with a TermSnapshot (the screen
 * serialized by the server's headless xterm, and the numeric id its binary output frames carry), then
 * binary `term.data` frames and TermEvents.
 */

/**
 * What a terminal runs: the user's login shell, or OpenCode's own TUI attached to the cell's agent session
 * (for people who prefer it to the chat pane). Either starts in the cell's worktree and ends with the cell.
 */
export const TERMINAL_KINDS = ["shell", "opencode-tui"] as const;
export const TerminalKindSchema = z.enum(TERMINAL_KINDS);
export type TerminalKind = z.infer<typeof TerminalKindSchema>;

export const TerminalInfoSchema = z.object({
  termId: z.string(),
  cellId: z.string(),
  name: z.string(),
  /** Numeric id carried by this terminal's binary output frames (see encodeTermData). */
  numericId: z.number().int(),
  cols: z.number().int(),
  rows: z.number().int(),
  /** null while the shell runs. */
  exitCode: z.number().int().nullable(),
  signal: z.number().int().nullable(),
  createdAt: z.string(),
});
export type TerminalInfo = z.infer<typeof TerminalInfoSchema>;

export const TermSnapshotSchema = TerminalInfoSchema.extend({
  /** Scrollback and screen, serialized: write it into a reset xterm of the same size. */
  screen: z.string(),
});
export type TermSnapshot = z.infer<typeof TermSnapshotSchema>;

export const TermEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("exit"),
    exitCode: z.number().int().nullable(),
    signal: z.number().int().nullable(),
  }),
  z.object({ type: z.literal("resized"), cols: z.number().int(), rows: z.number().int() }),
  /** The window that sized the shell no longer shows it: a window that does may take the size. */
  z.object({ type: z.literal("size.free") }),
  /** The terminal was closed (by a user, or its cell was deleted); the channel ends. */
  z.object({ type: z.literal("closed") }),
]);
export type TermEvent = z.infer<typeof TermEventSchema>;

/**
 * Flow control, shared by server and client: the client sends `term.ack {bytes}` as it takes output in
 * (payload bytes of term.data frames since the last snapshot; the browser acknowledges what its xterm
 * has written plus a bounded read-ahead, see client/terminal-session.ts). The server keeps at most a
 * few hundred KB of a subscriber's output on its way (far less while it skips for it), pauses the PTY
 * once every subscriber has more than TERM_HIGH_WATERMARK bytes unacknowledged and resumes it below
 * TERM_LOW_WATERMARK. Acknowledge at least every TERM_ACK_MAX_BYTES and whenever output pauses: a
 * client that holds back acks below that unit while the server waits would freeze the terminal.
 */
export const TERM_HIGH_WATERMARK = 1024 * 1024;
export const TERM_LOW_WATERMARK = 512 * 1024;
export const TERM_ACK_MAX_BYTES = 256 * 1024;
/**
 * While the server skips a flood's lines for a subscriber (it said `term.view`), at most this much of its
 * output is on its way. Everything on its way is ahead of the echo of the next keystroke in any terminal
 * on that socket, and the tab loses nothing by getting less: what it does not get in time is skipped.
 * Such a subscriber acknowledges in pieces of TERM_SKIPPING_ACK_BYTES, so the window never waits for an
 * idle ack.
 */
export const TERM_SKIPPING_TRANSIT_BYTES = 64 * 1024;
export const TERM_SKIPPING_ACK_BYTES = TERM_SKIPPING_TRANSIT_BYTES / 4;
