import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Cell, TimingEvent } from "../../shared/records.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { type SpawnedHive, spawnHive } from "../helpers/server.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "hive.js");
let repo: TempRepo;
let home: string;
const running: SpawnedHive[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) await h.kill("SIGKILL");
  // A setup command orphaned by SIGKILL of its server (it ignores SIGTERM on purpose).
  spawnSync("pkill", ["-f", "hive-test-marker"]);
  repo?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Gone from the process table, or a zombie waiting for init to reap it. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return true;
  }
}

async function start(): Promise<SpawnedHive> {
  const h = await spawnHive(["--workspace", repo.path, "--home", home, "--port", "0"]);
  running.push(h);
  return h;
}

async function workspaceId(h: SpawnedHive): Promise<string> {
  return (await h.api("GET", "/api/workspaces")).body[0].id;
}

describe("starting Hive from the command line", () => {
  it("refuses a directory that is not a git repository, or does not exist, with one clear sentence", () => {
    const dir = tempDir();
    /** What `hive --workspace <workspace>` says as it refuses to start. */
    const refusal = (workspace: string) => {
      const r = spawnSync(
        process.execPath,
        [BIN, "--workspace", workspace, "--home", join(dir, "home"), "--port", "0"],
        { encoding: "utf8" },
      );
      expect(r.status).not.toBe(0);
      return r.stderr.trim();
    };
    try {
      expect(refusal(dir)).toBe(
        `hive: ${dir} is not a git repository; run hive inside one or pass --workspace PATH.`,
      );
      const missing = join(dir, "typo");
      expect(refusal(missing)).toBe(
        `hive: ${missing} does not exist; pass --workspace with the path of a git repository.`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a port in use with one clear sentence", async () => {
    repo = makeRepo();
    home = tempDir("hive-home-");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(
        process.execPath,
        [BIN, "--workspace", repo.path, "--home", home, "--port", String(port)],
        {
          encoding: "utf8",
        },
      );
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim()).toBe(
        `hive: Port ${port} on 127.0.0.1 is already in use; pick another with --port.`,
      );
    } finally {
      blocker.close();
    }
  });
});

describe("config errors on the console", () => {
  it("prints each problem with file, line and key path at start", async () => {
    repo = makeRepo();
    repo.writeConfig('{\n  "templates": [\n    { "id": "web", "label": 42 }\n  ]\n}');
    home = tempDir("hive-home-");
    const h = await start();
    await new Promise((r) => setTimeout(r, 200));
    expect(h.output()).toContain(
      `${repo.path}/hive.config.json:3:20: templates[0].label: Invalid input: expected string`,
    );
  });
});

describe("surviving a crash", () => {
  it("marks a cell killed mid-provisioning as failed at its step, ends its orphaned setup command, and Retry finishes it", async () => {
    repo = makeRepo();
    // The command's child records its pid: after a SIGKILL of Hive it is an orphan the next Hive must end.
    const setup = "test -f done.txt || { sleep 30 & echo $! > ../sleeper.pid; wait; } # hive-test-marker";
    repo.writeConfig({ templates: [{ id: "basic", label: "Basic", setup: [setup] }] });
    repo.commit("config");
    home = tempDir("hive-home-");
    let h = await start();
    const ws = await workspaceId(h);
    const created = (
      await h.api<Cell>("POST", "/api/cells", { workspaceId: ws, templateId: "basic", name: "crashy" })
    ).body;
    const spawning = await h.waitForCell(created.id, (c) => c?.currentStep === "run_setup:0");
    const pidFile = join(spawning!.worktreePath!, "..", "sleeper.pid");
    while (!existsSync(pidFile) || !readFileSync(pidFile, "utf8").trim())
      await new Promise((r) => setTimeout(r, 50));
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    await h.kill("SIGKILL");
    expect(existsSync(`/proc/${sleeper}`)).toBe(true);

    h = await start();
    const cell = (await h.api<Cell>("GET", `/api/cells/${created.id}`)).body;
    expect(cell.status).toBe("error");
    expect(cell.lastSetupError).toContain("run_setup:0");
    expect(cell.lastSetupError).toContain("was still running and has been ended");
    // SIGKILL is delivered at once, but a loaded machine may take a moment to end the process.
    await expect.poll(() => isGone(sleeper), { timeout: 5000 }).toBe(true);
    expect((await h.api<string>("GET", `/api/cells/${created.id}/setup-log`)).body).toContain(
      "left running by the previous Hive",
    );
    const timings = (await h.api<TimingEvent[]>("GET", `/api/cells/${created.id}/timings`)).body;
    expect(timings.filter((t) => t.outcome === "running")).toEqual([]);
    expect(timings.find((t) => t.step === "run_setup:0")!.detail).toContain("interrupted");

    execFileSync("touch", [join(cell.worktreePath!, "done.txt")]);
    expect((await h.api("POST", `/api/cells/${created.id}/setup/retry`)).status).toBe(202);
    expect((await h.waitForCell(created.id, (c) => c?.status !== "spawning"))!.status).toBe("ready");
  });

  it("resumes a delete that a crash interrupted", async () => {
    repo = makeRepo();
    // The setup ignores SIGTERM, so cancelling it keeps the delete busy for the kill grace period.
    repo.writeConfig({
      templates: [{ id: "basic", label: "Basic", setup: ["trap '' TERM; sleep 30 # hive-test-marker"] }],
    });
    repo.commit("config");
    home = tempDir("hive-home-");
    let h = await start();
    const ws = await workspaceId(h);
    const created = (
      await h.api<Cell>("POST", "/api/cells", { workspaceId: ws, templateId: "basic", name: "doomed" })
    ).body;
    await h.waitForCell(created.id, (c) => c?.currentStep === "run_setup:0");
    expect((await h.api("DELETE", `/api/cells/${created.id}`)).status).toBe(202);
    await h.kill("SIGKILL");

    h = await start();
    await h.waitForCell(created.id, (c) => c === undefined, 30_000);
    expect(existsSync(created.worktreePath!)).toBe(false);
    expect(repo.git("branch", "--list", created.branchName!).trim()).toBe("");
  });
});
