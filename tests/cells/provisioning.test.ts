import { existsSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Cell,
  type ChecklistStep,
  SETUP_OUTPUT_TAIL_CHARS,
  type TimingEvent,
} from "../../shared/records.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

let repo: TempRepo;
let h: TestHive;

afterEach(async () => {
  await h?.close();
  repo?.cleanup();
});

async function setup(config?: unknown, files?: Record<string, string>) {
  repo = makeRepo(files);
  if (config) {
    repo.writeConfig(config);
    repo.commit("config");
  }
  h = await startHive(repo.path);
}

async function createCell(body: Record<string, unknown> = {}) {
  const r = await h.api<Cell>("POST", "/api/cells", {
    workspaceId: h.workspaceId,
    templateId: "basic",
    name: "My cell",
    ...body,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

describe("provisioning a cell", () => {
  it("creates a worktree on its own branch outside the repository and reaches ready", async () => {
    await setup();
    const created = await createCell({ name: "Fix the login bug" });
    expect(created.status).toBe("spawning");
    expect(created.branchName).toMatch(/^hive\/fix-the-login-bug-/);
    expect(created.worktreePath!.startsWith(h.home)).toBe(true);
    const cell = await h.waitForCell(created.id, (c) => c?.status !== "spawning");
    expect(cell!.status).toBe("ready");
    expect(existsSync(join(cell!.worktreePath!, "README.md"))).toBe(true);
    expect(repo.git("rev-parse", cell!.branchName!).trim()).toBe(cell!.baseCommit);
    expect(repo.git("worktree", "list")).toContain(cell!.worktreePath);
    const timings = (await h.api<TimingEvent[]>("GET", `/api/cells/${cell!.id}/timings`)).body;
    expect(timings.map((t) => t.step)).toEqual([
      "create_cell_record",
      "create_worktree",
      "copy_includes",
      "mark_ready",
    ]);
    for (const t of timings) {
      expect(t.outcome).toBe("ok");
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
      expect(t.endedAt).not.toBeNull();
    }
  });

  it("places worktrees under a configured worktreeRoot", async () => {
    const root = tempDir("hive-wtroot-");
    try {
      await setup({ defaults: { worktreeRoot: root }, templates: [{ id: "basic", label: "Basic" }] });
      const cell = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
      expect(cell!.status).toBe("ready");
      expect(cell!.worktreePath).toBe(
        join(
          root,
          basename(repo.path)
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, "-"),
          cell!.id,
        ),
      );
      expect(existsSync(join(cell!.worktreePath!, "README.md"))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("forks from the requested base ref and rejects one that does not exist", async () => {
    await setup();
    const first = repo.git("rev-parse", "HEAD").trim();
    repo.write("later.txt", "later\n");
    repo.commit("later");
    const cell = await createCell({ baseRef: first });
    expect(cell.baseCommit).toBe(first);
    const bad = await h.api("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "basic",
      name: "x",
      baseRef: "no-such-branch",
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("REF_INVALID");
    expect(bad.body.error.message).toContain("no-such-branch");
    await h.waitForCell(cell.id, (c) => c?.status === "ready");
  });

  it("copies included files the checkout lacks and records the count", async () => {
    await setup(
      { templates: [{ id: "basic", label: "Basic", include: [".env", "config/*.local"] }] },
      { ".gitignore": ".env\n*.local\n" },
    );
    repo.write(".env", "SECRET=1\n");
    repo.write("config/db.local", "db\n");
    repo.write("config/other.txt", "not included\n");
    const cell = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
    expect(cell!.status).toBe("ready");
    expect(readFileSync(join(cell!.worktreePath!, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(existsSync(join(cell!.worktreePath!, "config/db.local"))).toBe(true);
    expect(existsSync(join(cell!.worktreePath!, "config/other.txt"))).toBe(false);
    const timings = (await h.api<TimingEvent[]>("GET", `/api/cells/${cell!.id}/timings`)).body;
    expect(timings.find((t) => t.step === "copy_includes")!.detail).toMatch(/^2 files/);
  });

  it("runs setup commands in the worktree with the template env and the cell's variables", async () => {
    await setup({
      templates: [
        {
          id: "basic",
          label: "Basic",
          env: { GREETING: "hello" },
          setup: ['echo "$GREETING $HIVE_CELL_ID" > out.txt'],
        },
      ],
    });
    const cell = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
    expect(cell!.status).toBe("ready");
    expect(readFileSync(join(cell!.worktreePath!, "out.txt"), "utf8")).toBe(`hello ${cell!.id}\n`);
    const log = await h.api<string>("GET", `/api/cells/${cell!.id}/setup-log`);
    expect(log.body).toContain('$ echo "$GREETING $HIVE_CELL_ID" > out.txt');
  });

  it("sends a noisy setup's live output to the checklist a few times a second, as its latest lines", async () => {
    await setup({
      templates: [
        { id: "basic", label: "Basic", setup: ["yes 'a noisy line' | head -n 2300000; echo finished"] },
      ],
    });
    const sent: string[] = [];
    h.hive.bus.on("cell.progress", ({ step, detail }) => {
      if (step === "run_setup:0") sent.push(detail);
    });
    const cell = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
    expect(cell!.status).toBe("ready");
    // 30 MB arrive in some 460 pipe reads: they reach the tabs as a handful of events, each a tail the
    // checklist can hold, the last ending where the output ends.
    expect(sent.length).toBeLessThan(100);
    expect(Math.max(...sent.map((s) => s.length))).toBeLessThanOrEqual(SETUP_OUTPUT_TAIL_CHARS);
    expect(sent.at(-1)!.endsWith("a noisy line\nfinished\n")).toBe(true);
  });

  it("fails a setup step with its output, then retries from that step once the config is fixed", async () => {
    await setup({
      templates: [
        {
          id: "basic",
          label: "Basic",
          setup: [
            "echo first >> ran.txt",
            // Coloured, with a progress line redrawn by carriage returns, as tools print even into a pipe.
            "printf 'fetching 10%%\\rfetching 100%%\\n'; printf '\\033[31mnpm ERR!\\033[0m missing thing\\n' >&2; exit 3",
          ],
        },
      ],
    });
    const failed = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
    expect(failed!.status).toBe("error");
    expect(failed!.currentStep).toBe("run_setup:1");
    expect(failed!.lastSetupError).toContain("run_setup:1");
    expect(failed!.lastSetupError).toContain("exited with 3");
    expect(failed!.lastSetupError).toContain("npm ERR! missing thing");
    expect(failed!.lastSetupError).toContain("\nfetching 100%\n");
    expect(failed!.lastSetupError).not.toContain("\x1b");
    expect(failed!.lastSetupError).not.toContain("\r");
    expect(existsSync(failed!.worktreePath!)).toBe(true);
    const checklist = (await h.api<ChecklistStep[]>("GET", `/api/cells/${failed!.id}/checklist`)).body;
    expect(checklist.find((s) => s.step === "run_setup:1")!.state).toBe("failed");
    expect(checklist.find((s) => s.step === "mark_ready")!.state).toBe("pending");

    repo.writeConfig({
      templates: [{ id: "basic", label: "Basic", setup: ["echo first >> ran.txt", "echo fixed"] }],
    });
    const retry = await h.api("POST", `/api/cells/${failed!.id}/setup/retry`);
    expect(retry.status).toBe(202);
    const ready = await h.waitForCell(failed!.id, (c) => c?.status !== "spawning");
    expect(ready!.status).toBe("ready");
    expect(ready!.lastSetupError).toBeNull();
    // The step that had succeeded did not run again.
    expect(readFileSync(join(ready!.worktreePath!, "ran.txt"), "utf8")).toBe("first\n");
  });

  it("answers 409 to a second retry while one runs, never running two workflows", async () => {
    await setup({
      templates: [{ id: "basic", label: "Basic", setup: ["test -f go || { sleep 0.2; exit 1; }"] }],
    });
    const failed = await h.waitForCell((await createCell()).id, (c) => c?.status === "error");
    repo.writeConfig({ templates: [{ id: "basic", label: "Basic", setup: ["sleep 1"] }] });
    const results = await Promise.all(
      [1, 2, 3].map(() => h.api("POST", `/api/cells/${failed!.id}/setup/retry`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 409, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe("CELL_BUSY");
    expect((await h.waitForCell(failed!.id, (c) => c?.status !== "spawning"))!.status).toBe("ready");
  });

  it("is ready and retryable while a background step (the agent warming up) still runs", async () => {
    await setup({ templates: [{ id: "basic", label: "Basic", setup: ["test -f go"] }] });
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    h.hive.cells.addContributor({
      backgroundSteps: () => [
        {
          name: "slow_background",
          label: "Slow",
          run: async () => {
            runs++;
            await gate;
            return "warmed";
          },
        },
      ],
    });
    const failed = await h.waitForCell((await createCell()).id, (c) => c?.status === "error");
    repo.writeConfig({ templates: [{ id: "basic", label: "Basic", setup: ["true"] }] });
    expect((await h.api("POST", `/api/cells/${failed!.id}/setup/retry`)).status).toBe(202);
    const ready = await h.waitForCell(failed!.id, (c) => c?.status !== "spawning");
    expect(ready!.status).toBe("ready");
    const checklist = (await h.api<ChecklistStep[]>("GET", `/api/cells/${failed!.id}/checklist`)).body;
    expect(checklist.find((s) => s.step === "slow_background")).toMatchObject({
      state: "running",
      gatesReady: false,
    });
    release();
    await expect
      .poll(async () => {
        const list = (await h.api<ChecklistStep[]>("GET", `/api/cells/${failed!.id}/checklist`)).body;
        return list.find((s) => s.step === "slow_background")!.state;
      })
      .toBe("done");
    expect(runs).toBe(1);
  });

  it("kills a setup command that outlives its timeout", async () => {
    await setup({
      templates: [{ id: "basic", label: "Basic", setup: [{ run: "sleep 30", timeoutMs: 300 }] }],
    });
    const cell = await h.waitForCell((await createCell()).id, (c) => c?.status !== "spawning");
    expect(cell!.status).toBe("error");
    expect(cell!.lastSetupError).toContain("timed out");
  });
});
