import type { RestState } from "../../../shared/rest-tracker.ts";
import type { TerminalInfo } from "../../../shared/terminals.ts";

/** The JSON half of the PTY host's socket protocol (output bytes travel as data frames, see wire.ts). */

export interface OpenSpec {
  cellId: string;
  name: string;
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  shell: string;
  args: string[];
  scrollbackLines: number;
}

/** What the web server asks; messages with `req` are answered with a `res` of the same number. */
export type HostRequest =
  | { t: "list"; req: number }
  | { t: "open"; req: number; spec: OpenSpec }
  | { t: "close"; req: number; num: number }
  | { t: "closeCell"; req: number; cellId: string }
  /**
   * Answers `{program, background}`: a program the terminal's shell runs in the foreground, or else a job
   * it left running in the background; null while the shell only waits for a command.
   */
  | { t: "foreground"; req: number; num: number }
  | { t: "snapshot"; req: number; num: number }
  /** Answers the host's build (see build.ts); a host started by an older Hive answers null. */
  | { t: "build"; req: number }
  | { t: "shutdown"; req: number }
  | { t: "input"; num: number; data: string }
  | { t: "resize"; num: number; cols: number; rows: number }
  | { t: "pause"; num: number }
  | { t: "resume"; num: number }
  /** Output of a terminal is only sent while it is watched (someone subscribed to it). */
  | { t: "watch"; num: number; on: boolean };

export interface HostSnapshot {
  info: TerminalInfo;
  screen: string;
  /** Stream offset the screen corresponds to: output from here on follows it. */
  offset: number;
  /**
   * Where the output up to `offset` left the screen's parser and screens (see RestTracker); a host started
   * by an older Hive (it outlives upgrades) does not say.
   */
  rest?: RestState;
}

/** What the host tells: answers, and news about terminals. */
export type HostMessage =
  | { t: "res"; req: number; ok: true; value: unknown }
  | { t: "res"; req: number; ok: false; error: { code: string; message: string } }
  | { t: "exit"; num: number; exitCode: number | null; signal: number | null }
  | { t: "resized"; num: number; cols: number; rows: number }
  | { t: "closed"; num: number };
