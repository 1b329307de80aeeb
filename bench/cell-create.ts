// Time from POST /api/cells to `ready` (no setup commands) on a 20,000-file repository, against a plain
// `git worktree add` of the same repository in the same run. Goal: ratio at most 1.15.
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Cell } from "../shared/records.ts";
import { makeRepo, tempDir } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
import { median } from "./_stats.ts";

const FILES = 20_000;
const ROUNDS = Number(process.env.ROUNDS ?? 6);

const repo = makeRepo();
for (let i = 0; i < FILES; i++) {
  const dir = join(repo.path, `src/m${i % 200}`);
  if (i < 200) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `f${i}.ts`), `export const v${i} = ${i};\n// ${"x".repeat(i % 300)}\n`);
}
repo.commit("20k files");
console.log(`repository: ${FILES} files at ${repo.path}`);

// The real product: the agent's session starts beside provisioning (OpenCode's state in the temp home).
const h = await startHive(repo.path, { agents: true });
const scratch = tempDir("hive-bench-wt-");

// Async, so the in-process server's timers are not starved while git runs.
async function gitWorktreeAdd(i: number): Promise<number> {
  const path = join(scratch, `plain-${i}`);
  const t0 = performance.now();
  await promisify(execFile)("git", ["worktree", "add", "-q", "-b", `bench/plain-${i}`, path, "HEAD"], {
    cwd: repo.path,
  });
  return performance.now() - t0;
}

async function hiveCreate(i: number): Promise<{ ms: number; cell: Cell }> {
  const t0 = performance.now();
  const ready = new Promise<Cell>((resolve, reject) => {
    const off = h.hive.bus.on("cell.updated", ({ cell }) => {
      if (cell.name !== `bench ${i}`) return;
      if (cell.status === "ready") {
        off();
        resolve(cell);
      } else if (cell.status === "error") {
        off();
        reject(new Error(cell.lastSetupError ?? "error"));
      }
    });
  });
  const r = await h.api("POST", "/api/cells", {
    workspaceId: h.workspaceId,
    templateId: "basic",
    name: `bench ${i}`,
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  const cell = await ready;
  return { ms: performance.now() - t0, cell };
}

/** CPU ticks used so far by this process's children (OpenCode, the terminal host). */
function childTicks(): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== process.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks;
}

async function childrenQuiet(): Promise<void> {
  const deadline = Date.now() + 120_000;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    const before = childTicks();
    await new Promise((r) => setTimeout(r, 1000));
    quiet = childTicks() - before < 10 ? quiet + 1 : 0; // under 10% of a core for 2 s in a row
  }
}

// One warm-up of each, then alternate so both see the same page cache and machine load.
await gitWorktreeAdd(-1);
const warm = await hiveCreate(-1);
// OpenCode's own start-up (once per workspace, not per cell) burns a core for tens of seconds; the goal is
// about a cell's cost, so wait for the warm-up cell's agent step and for Hive's children to go quiet.
await h.waitForCell(warm.cell.id, () => {
  const agent = h.hive.timings.forCell(warm.cell.id).find((t) => t.step === "ensure_agent_session");
  return agent !== undefined && agent.outcome !== "running";
});
await childrenQuiet();
await h.api("DELETE", `/api/cells/${warm.cell.id}`);
await h.waitForCell(warm.cell.id, (c) => c === undefined, 60_000);
await childrenQuiet();

const plain: number[] = [];
const hive: number[] = [];
// The order flips every round: a checkout pays for the writeback of the one before it.
// Before each measurement: dirty pages written back (the previous delete of 20,000 files) and Hive's
// children idle, so each checkout starts from the same state.
const settle = async () => {
  await promisify(execFile)("sync");
  await childrenQuiet();
};
for (let i = 0; i < ROUNDS; i++) {
  await settle();
  if (i % 2 === 0) {
    plain.push(await gitWorktreeAdd(i));
    await settle();
  }
  const { ms, cell } = await hiveCreate(i);
  hive.push(ms);
  if (i % 2 === 1) {
    await settle();
    plain.push(await gitWorktreeAdd(i));
  }
  await h.api("DELETE", `/api/cells/${cell.id}`);
  await h.waitForCell(cell.id, (c) => c === undefined, 60_000);
  const steps = h.hive.timings
    .forCell(cell.id)
    .filter((t) => t.workflow === "provision")
    .map((t) => `${t.step} ${t.durationMs?.toFixed(0) ?? "running"}`)
    .join(", ");
  console.log(
    `round ${i + 1}: git worktree add ${plain.at(-1)!.toFixed(0)} ms, Hive POST→ready ${ms.toFixed(0)} ms`,
  );
  console.log(`  steps: ${steps}`);
}
await h.close();
rmSync(scratch, { recursive: true, force: true });
repo.cleanup();

const gitMs = median(plain);
const hiveMs = median(hive);
const ratio = hiveMs / gitMs;
console.log(
  `median: git worktree add ${gitMs.toFixed(0)} ms, Hive ${hiveMs.toFixed(0)} ms, ratio ${ratio.toFixed(3)}`,
);
console.log(
  JSON.stringify({
    bench: "cell-create",
    metrics: {
      files: FILES,
      rounds: ROUNDS,
      git_worktree_add_ms: Math.round(gitMs),
      hive_ready_ms: Math.round(hiveMs),
      ratio: Number(ratio.toFixed(3)),
    },
    goal: "POST /api/cells to ready at most 1.15x plain git worktree add",
    met: ratio <= 1.15,
  }),
);
