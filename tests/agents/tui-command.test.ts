import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tuiCommand } from "../../server/agents/tui-command.ts";
import { until } from "../services/harness.ts";

// The loop around `opencode attach`, run by the real shell with a stand-in for the TUI that records how it
// was called and then waits like a TUI does. The real TUI is driven in tui-terminal.test.ts.
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function attaches(log: string): string[] {
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
}

describe("the OpenCode TUI's reattach loop", () => {
  it("attaches to the URL the pid file gives, and to the new one when the server restarts on another port", async () => {
    dir = mkdtempSync(join(tmpdir(), "hive-tui-loop-"));
    const log = join(dir, "attached.log");
    const bin = join(dir, "fake-opencode");
    writeFileSync(bin, `#!/bin/sh\necho "$*" >> ${log}\nexec sleep 60\n`);
    chmodSync(bin, 0o755);
    const pidFile = join(dir, "server.json");
    writeFileSync(pidFile, JSON.stringify({ pid: 111 }));

    const cmd = tuiCommand({ bin, pidFile, sessionId: "ses_1", dir: "/w", password: "secret" });
    const loop = spawn(cmd.file, cmd.args, { env: cmd.env, stdio: "pipe", detached: true });
    try {
      // Not before the server says it listens.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(attaches(log)).toEqual([]);

      writeFileSync(pidFile, JSON.stringify({ pid: 111, ready: true, url: "http://127.0.0.1:4001" }));
      await until(() => attaches(log).length === 1, "the first attach");
      expect(attaches(log)[0]).toBe("attach http://127.0.0.1:4001 --session ses_1 --dir /w");

      writeFileSync(pidFile, JSON.stringify({ pid: 222, ready: true, url: "http://127.0.0.1:4002" }));
      await until(() => attaches(log).length === 2, "the attach to the restarted server", 15_000);
      expect(attaches(log)[1]).toBe("attach http://127.0.0.1:4002 --session ses_1 --dir /w");
      expect(loop.exitCode).toBeNull();
    } finally {
      process.kill(-loop.pid!, "SIGKILL");
    }
  }, 30_000);
});
