import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCommand, SETUP_LOG_MAX_BYTES } from "../../server/setup/run-command.ts";
import { tempDir } from "../helpers/repo.ts";

describe("a setup command's log", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps a command's output up to its limit, then only its end, so a looping setup cannot fill the disk", async () => {
    dir = tempDir("hive-setup-log-");
    const logFile = join(dir, "setup.log");
    const total = SETUP_LOG_MAX_BYTES + 4 * 1024 * 1024;
    const result = await runCommand({
      command: `yes 'a line a setup prints' | head -n ${Math.ceil(total / 22)}; echo the-last-line`,
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      timeoutMs: 60_000,
      logFile,
      signal: new AbortController().signal,
    });
    expect(result.exitCode).toBe(0);
    expect(result.tail.endsWith("the-last-line")).toBe(true);
    const size = statSync(logFile).size;
    expect(size).toBeGreaterThan(SETUP_LOG_MAX_BYTES);
    expect(size).toBeLessThan(SETUP_LOG_MAX_BYTES + 128 * 1024);
    const log = readFileSync(logFile, "utf8");
    expect(log.startsWith(`\n$ yes 'a line a setup prints'`)).toBe(true);
    expect(log).toMatch(/\n\[hive\] 3\.\d MB of output not kept in this log; its last 65536 bytes:\n/);
    expect(log.endsWith("a line a setup prints\nthe-last-line\n[exit 0]\n")).toBe(true);
  });
});
