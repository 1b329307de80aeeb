import type { TerminalCommand } from "../terminals/terminals.ts";

/**
 * Runs `$0 attach <url> "$@"` and starts it afresh when it cannot go on: when its server restarted (a
 * changed opencode.json, a failed health check), seen as the pid file `$1` naming another process (the TUI
 * itself would stay attached to nothing); or when it failed, as it may when its connection drops under
 * load. It attaches once that file says the server listens, to the URL the file gives: a restarted server
 * keeps its port when it can, but may have had to take another. A person quitting it ends the loop; 15
 * failures in a row end it too. The TUI runs in the background of this shell to be watched, so it gets the
 * terminal through fd 3 (a background job's stdin is /dev/null).
 */
const RECONNECT = `pidfile=$1
shift
exec 3<&0
n=0
ours() { sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' "$pidfile" 2>/dev/null; }
while :; do
  until grep -q '"ready":true' "$pidfile" 2>/dev/null; do sleep 1; done
  server=$(ours)
  url=$(sed -n 's/.*"url":"\\([^"]*\\)".*/\\1/p' "$pidfile" 2>/dev/null)
  start=$(date +%s)
  "$0" attach "$url" "$@" <&3 &
  tui=$!
  restarted=
  while kill -0 "$tui" 2>/dev/null; do
    sleep 1
    [ "$(ours)" = "$server" ] || { restarted=1; kill "$tui" 2>/dev/null; }
  done
  wait "$tui" && [ -z "$restarted" ] && exit 0
  [ $(($(date +%s) - start)) -gt 60 ] && n=0
  n=$((n + 1))
  [ "$n" -gt 15 ] && exit 1
  printf '\\r\\n[Hive] The OpenCode TUI lost its server; attaching again in 2 s (%s/15)\\r\\n' "$n"
  sleep 2
done`;

/** What an "OpenCode TUI" terminal runs: OpenCode's own TUI attached to one session of a running server. */
export function tuiCommand(opts: {
  bin: string;
  /** The running server's pid file, rewritten at each of its starts; it gives the server's URL. */
  pidFile: string;
  sessionId: string;
  dir: string;
  password: string;
  env?: NodeJS.ProcessEnv;
}): TerminalCommand {
  const attach = ["--session", opts.sessionId, "--dir", opts.dir];
  return {
    file: "/bin/sh",
    args: ["-c", RECONNECT, opts.bin, opts.pidFile, ...attach],
    // The password goes by environment, not argv, where any local user could read it.
    env: { ...(opts.env as Record<string, string>), OPENCODE_SERVER_PASSWORD: opts.password },
  };
}
