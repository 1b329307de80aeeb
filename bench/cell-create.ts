// Time from POST /api/cells to `ready` (no setup commands) on a 20,000-file repository, against a plain
// `git worktree add` of the same repository in the same run. Goal: ratio at most 1.15.
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Cell } from "../shared/records.ts";
import { makeRepo, tempDir } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";

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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

// One warm-up of each, then alternate so both see the same page cache and machine load.
await gitWorktreeAdd(-1);
const warm = await hiveCreate(-1);
await h.api("DELETE", `/api/cells/${warm.cell.id}`);
await h.waitForCell(warm.cell.id, (c) => c === undefined, 60_000);

const plain: number[] = [];
const hive: number[] = [];
// The order flips every round: a checkout pays for the writeback of the one before it.
for (let i = 0; i < ROUNDS; i++) {
  if (i % 2 === 0) plain.push(await gitWorktreeAdd(i));
  const { ms, cell } = await hiveCreate(i);
  hive.push(ms);
  if (i % 2 === 1) plain.push(await gitWorktreeAdd(i));
  await h.api("DELETE", `/api/cells/${cell.id}`);
  await h.waitForCell(cell.id, (c) => c === undefined, 60_000);
  console.log(
    `round ${i + 1}: git worktree add ${plain.at(-1)!.toFixed(0)} ms, Hive POST→ready ${ms.toFixed(0)} ms`,
  );
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
