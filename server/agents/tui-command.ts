import type { TerminalCommand } from "../terminals/terminals.ts";

/**
 * Runs `$0 "$@"` (opencode attach) again when it fails: the TUI gives up when its server restarts (a changed
 * opencode.json, a failed health check; the server keeps its port) or drops its connection under load. A
 * person quitting it ends the loop; 15 failures in a row end it too.
 */
const RECONNECT = `n=0
while :; do
  start=$(date +%s)
  "$0" "$@" && exit 0
  [ $(($(date +%s) - start)) -gt 60 ] && n=0
  n=$((n + 1))
  [ "$n" -gt 15 ] && exit 1
  printf '\\r\\n[Hive] The OpenCode TUI lost its server; reconnecting in 2 s (%s/15)\\r\\n' "$n"
  sleep 2
done`;

/** What an "OpenCode TUI" terminal runs: OpenCode's own TUI attached to one session of a running server. */
export function tuiCommand(opts: {
  bin: string;
  url: string;
  sessionId: string;
  dir: string;
  password: string;
  env?: NodeJS.ProcessEnv;
}): TerminalCommand {
  return {
    file: "/bin/sh",
    args: ["-c", RECONNECT, opts.bin, "attach", opts.url, "--session", opts.sessionId, "--dir", opts.dir],
    // The password goes by environment, not argv, where any local user could read it.
    env: { ...(opts.env as Record<string, string>), OPENCODE_SERVER_PASSWORD: opts.password },
  };
}
