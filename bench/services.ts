// 20 cells created at once, each with 2 services (a small Node HTTP server: one ready by output
// pattern, one by URL and depending on the first): time until every cell is ready, and Hive's own RSS
// and idle CPU with all 40 running. Baselines from the same run: the same 40 processes started
// directly (no Hive), and Hive's RSS and idle CPU with no cells. The issue sets no numeric goal.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cell } from "../shared/records.ts";
import { makeRepo } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
import { liveInGroups, serviceCommand } from "../tests/services/harness.ts";

const CELLS = 20;
const IDLE_WINDOW_MS = 5_000;

async function idleFigures(): Promise<{ cpuPercent: number; rssMb: number }> {
  await sleep(1_000); // let start-up work settle
  const before = process.cpuUsage();
  const t0 = performance.now();
  await sleep(IDLE_WINDOW_MS);
  const used = process.cpuUsage(before);
  const cpuPercent = ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
  return { cpuPercent: round(cpuPercent), rssMb: round(process.memoryUsage().rss / 1024 / 1024) };
}

/** The same 40 processes without Hive: spawn, wait for "listening", kill. */
async function rawStart(): Promise<number> {
  const t0 = performance.now();
  const children = Array.from({ length: CELLS * 2 }, (_, i) =>
    spawn("/bin/sh", ["-c", serviceCommand(`--name raw${i}`)], {
      env: { ...process.env, PORT: "0" },
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    }),
  );
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          let out = "";
          c.stdout!.on("data", (d) => {
            out += d;
            if (out.includes("listening")) resolve();
          });
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const c of children) process.kill(-c.pid!, "SIGKILL");
  return ms;
}

const round = (n: number) => Math.round(n * 10) / 10;

const repo = makeRepo();
repo.writeConfig({
  templates: [
    {
      id: "two",
      label: "Two services",
      services: {
        db: { run: serviceCommand("--name db"), readyPattern: "listening on \\d+" },
        web: { run: serviceCommand("--name web"), readyUrl: "http://127.0.0.1:$PORT/", dependsOn: ["db"] },
      },
    },
  ],
});
repo.commit("config");

const h = await startHive(repo.path, { opencodeEnv: { HIVE_BENCH: "1" } });
let allReady = false;
try {
  const empty = await idleFigures();
  console.log(`Hive with no cells: RSS ${empty.rssMb} MB, idle CPU ${empty.cpuPercent}%`);

  const rawMs = round(await rawStart());
  console.log(`baseline: ${CELLS * 2} service processes started directly, all listening in ${rawMs} ms`);

  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: CELLS }, async (_, i) => {
      const r = await h.api<Cell>("POST", "/api/cells", {
        workspaceId: h.workspaceId,
        templateId: "two",
        name: `svc ${i}`,
      });
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
      return r.body.id;
    }),
  );
  const cells = await Promise.all(
    ids.map((id) => h.waitForCell(id, (c) => c?.status === "ready" || c?.status === "error", 120_000)),
  );
  const readyMs = round(performance.now() - t0);
  const failed = cells.filter((c) => c?.status !== "ready");
  allReady = failed.length === 0;
  console.log(
    `${CELLS} cells x 2 services: all ${allReady ? "ready" : `settled (${failed.length} failed)`} in ${readyMs} ms`,
  );
  for (const c of failed) console.log(`  ${c?.name}: ${c?.lastSetupError}`);

  const ports = ids.flatMap((id) => h.hive.services.list(id).map((s) => s.port));
  const uniquePorts = new Set(ports).size;
  console.log(`ports: ${ports.length} allocated, ${uniquePorts} distinct`);

  const running = await idleFigures();
  console.log(
    `Hive with ${CELLS * 2} services running: RSS ${running.rssMb} MB, idle CPU ${running.cpuPercent}%`,
  );

  const pids = ids.flatMap((id) => h.hive.services.list(id).map((s) => s.pid!));
  await Promise.all(ids.map((id) => h.api("DELETE", `/api/cells/${id}`)));
  await Promise.all(ids.map((id) => h.waitForCell(id, (c) => c === undefined, 120_000)));
  const leftover = liveInGroups(pids).length;
  console.log(`after deleting every cell: ${leftover} service processes left`);

  console.log(
    JSON.stringify({
      bench: "services",
      metrics: {
        cells: CELLS,
        services: CELLS * 2,
        allReadyMs: readyMs,
        rawStartMs: rawMs,
        distinctPorts: uniquePorts,
        hiveRssMbEmpty: empty.rssMb,
        hiveIdleCpuPercentEmpty: empty.cpuPercent,
        hiveRssMbAllRunning: running.rssMb,
        hiveIdleCpuPercentAllRunning: running.cpuPercent,
        leftoverProcesses: leftover,
      },
      goal: "print the figures",
      met: allReady && uniquePorts === CELLS * 2 && leftover === 0,
    }),
  );
} finally {
  await h.close();
  repo.cleanup();
}
