import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import type { ServiceState } from "../../shared/services.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { type SpawnedHive, spawnHive } from "../helpers/server.ts";
import { liveInGroups, serviceCommand } from "./harness.ts";

let repo: TempRepo;
let home: string;
const running: SpawnedHive[] = [];

afterEach(async () => {
  // A clean stop (SIGTERM) is what takes the services down: that is also under test here.
  for (const h of running.splice(0)) await h.kill("SIGTERM");
  repo?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function start(): Promise<SpawnedHive> {
  const h = await spawnHive(["--workspace", repo.path, "--home", home, "--port", "0"]);
  running.push(h);
  return h;
}

async function services(h: SpawnedHive, cellId: string): Promise<Record<string, ServiceState>> {
  const list = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

describe("services across a Hive crash", () => {
  it("adopts live services after SIGKILL, restarts dead ones, keeps every port, and a clean stop ends them", async () => {
    repo = makeRepo();
    repo.writeConfig({
      templates: [
        {
          id: "web",
          label: "Web",
          services: {
            web: { run: serviceCommand("--name web"), readyPattern: "listening" },
            worker: { run: serviceCommand("--name worker"), readyPort: true },
          },
        },
      ],
    });
    repo.commit("config");
    home = tempDir("hive-home-");
    let h = await start();
    const ws = (await h.api("GET", "/api/workspaces")).body[0].id;
    const cell = (
      await h.api<Cell>("POST", "/api/cells", { workspaceId: ws, templateId: "web", name: "crash" })
    ).body;
    await h.waitForCell(cell.id, (c) => c?.status === "ready", 60_000);
    const before = await services(h, cell.id);
    expect(before.web!.status).toBe("ready");

    await h.kill("SIGKILL");
    running.splice(0);
    expect(liveInGroups([before.web!.pid!, before.worker!.pid!])).toHaveLength(2);
    process.kill(-before.worker!.pid!, "SIGKILL"); // one dies while Hive is down

    h = await start();
    const deadline = Date.now() + 30_000;
    let after = await services(h, cell.id);
    while (!(after.web?.status === "ready" && after.worker?.status === "ready") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      after = await services(h, cell.id);
    }
    expect(after.web!.status).toBe("ready");
    expect(after.worker!.status).toBe("ready");
    expect(after.web!.pid).toBe(before.web!.pid);
    expect(after.worker!.pid).not.toBe(before.worker!.pid);
    expect(after.web!.port).toBe(before.web!.port);
    expect(after.worker!.port).toBe(before.worker!.port);
    expect(await (await fetch(after.worker!.url!)).text()).toContain("hello from worker");

    await h.kill("SIGTERM");
    running.splice(0);
    expect(liveInGroups([after.web!.pid!, after.worker!.pid!])).toEqual([]);
  });
});
