import { spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { homeLayout } from "../../server/home/home.ts";
import { HOST_MAIN } from "../../server/terminals/host/build.ts";
import { ptyHostPaths } from "../../server/terminals/host/paths.ts";
import { PtyHostClient, stopPtyHost } from "../../server/terminals/host-client.ts";
import type { TerminalInfo } from "../../shared/terminals.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** A copy of Hive's server code that differs from this one, as an older Hive would be. */
function olderHive(): string {
  const dir = tempDir("hive-older-");
  for (const entry of ["server", "shared", "package.json", "package-lock.json", "tsconfig.json"])
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  appendFileSync(join(dir, "server", "terminals", "host", "outbox.ts"), "\n// as shipped by an older Hive\n");
  return dir;
}

/** Starts the older copy's PTY host on `home`, as the older Hive would have, and waits for it to serve. */
async function startOlderHost(older: string, home: string): Promise<number> {
  const paths = ptyHostPaths(homeLayout(home));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(older, "server/terminals/host/main.ts"), home],
    {
      cwd: older,
      detached: true,
      stdio: "ignore",
    },
  );
  child.unref();
  await vi.waitFor(() => expect(existsSync(paths.pidFile)).toBe(true), { timeout: 20_000, interval: 50 });
  return Number(readFileSync(paths.pidFile, "utf8"));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("a PTY host left by an older Hive", () => {
  let repo: TempRepo | undefined;
  let hive: TestHive | undefined;
  let home = "";
  let older = "";
  afterEach(async () => {
    vi.restoreAllMocks();
    await hive?.close();
    hive = undefined;
    await stopPtyHost(home);
    repo?.cleanup();
    rmSync(older, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("keeps serving the shells it holds, says so, and is replaced once it holds none", async () => {
    repo = makeRepo();
    home = tempDir("hive-home-");
    older = olderHive();
    const oldPid = await startOlderHost(older, home);
    // A shell opened under the older Hive.
    const events = { data() {}, message() {}, close() {} };
    const client = await PtyHostClient.connect(homeLayout(home), events);
    const shell = await client.request<TerminalInfo>({
      t: "open",
      spec: {
        cellId: "older-cell",
        name: "kept",
        cwd: repo.path,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
        cols: 80,
        rows: 24,
        shell: "/bin/sh",
        args: [],
        scrollbackLines: 1000,
      },
    });
    client.close();

    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    hive = await startHive(repo.path, { home });
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining("started by another build of Hive and keeps 1 shell(s)"),
    );
    expect(alive(oldPid)).toBe(true);
    expect(hive.hive.terminals.list().map((t) => t.termId)).toEqual([shell.termId]);

    // Once its shell is closed it ends, with no restart of Hive, and the next terminal gets a host of this build.
    await hive.hive.terminals.close(shell.termId);
    await vi.waitFor(() => expect(alive(oldPid)).toBe(false), { timeout: 10_000, interval: 50 });
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "fresh" });
    const sock = await TestSocket.connect(hive.url, hive.headers);
    await sock.openTerminal(cell.id);
    sock.close();
    const newPid = Number(readFileSync(ptyHostPaths(homeLayout(home)).pidFile, "utf8"));
    expect(newPid).not.toBe(oldPid);
    expect(readFileSync(`/proc/${newPid}/cmdline`, "utf8")).toContain(HOST_MAIN);
  }, 90_000);

  it("is left alone when it runs this build", async () => {
    repo = makeRepo();
    home = tempDir("hive-home-");
    hive = await startHive(repo.path, { home });
    const cell = await hive.readyCell({ workspaceId: hive.workspaceId, name: "same" });
    const sock = await TestSocket.connect(hive.url, hive.headers);
    await sock.openTerminal(cell.id);
    sock.close();
    const pid = Number(readFileSync(ptyHostPaths(homeLayout(home)).pidFile, "utf8"));
    const warn = vi.spyOn(console, "warn");
    await hive.hive.close();
    hive = await startHive(repo.path, { home });
    expect(warn).not.toHaveBeenCalled();
    expect(alive(pid)).toBe(true);
    expect(hive.hive.terminals.list()).toHaveLength(1);
  }, 90_000);
});
