import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readStat } from "../../server/services/proc.ts";
import type { ServiceState } from "../../shared/services.ts";
import { liveInGroups, ServicesHarness, serviceCommand, until } from "./harness.ts";

const RANGE: [number, number] = [23700, 23799];
const HOST = join(import.meta.dirname, "..", "fixtures", "services-host.ts");

/** Starts the services of cell c1 in a separate process and returns what it reported once ready. */
async function startInOtherProcess(
  h: ServicesHarness,
  services: object,
): Promise<{ host: ChildProcess; states: ServiceState[] }> {
  const tpl = JSON.stringify({ id: "t", label: "Test", services });
  // node itself (not the tsx wrapper, whose SIGKILL would leave the real process running).
  const host = spawn(
    process.execPath,
    ["--import", "tsx", HOST, h.root, String(RANGE[0]), String(RANGE[1]), "c1", tpl],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  host.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const line = await until(
    () => out.includes("\n") && out.split("\n")[0],
    "the other process to report",
    30_000,
  );
  return { host, states: JSON.parse(line) as ServiceState[] };
}

describe("services after a Hive crash", () => {
  let h: ServicesHarness;
  let host: ChildProcess | undefined;

  afterEach(async () => {
    host?.kill("SIGKILL");
    await h?.close();
  });

  it("adopts services whose processes still live, or restarts them on the same ports", async () => {
    h = new ServicesHarness(RANGE);
    h.addCell("c1");
    const started = await startInOtherProcess(h, {
      api: { run: serviceCommand("--name api"), readyPattern: "listening" },
      web: { run: serviceCommand("--name web"), readyUrl: "http://127.0.0.1:$PORT/", dependsOn: ["api"] },
    });
    host = started.host;
    const before = Object.fromEntries(started.states.map((s) => [s.name, s]));
    expect(before.api!.status).toBe("ready");

    host.kill("SIGKILL");
    await until(() => host!.exitCode !== null || host!.signalCode !== null, "the crash");
    // The services outlived the crash (their own process groups); take one down too while Hive is away.
    expect(liveInGroups([before.api!.pid!, before.web!.pid!])).toHaveLength(2);
    process.kill(-before.api!.pid!, "SIGKILL");
    await until(() => !readStat(before.api!.pid!) || readStat(before.api!.pid!)?.state === "Z", "api to die");

    h.services.recover();
    const after = await until(() => {
      const list = h.services.list("c1");
      return list.every((s) => s.status === "ready") && Object.fromEntries(list.map((s) => [s.name, s]));
    }, "both services ready again");
    expect(after.web!.pid).toBe(before.web!.pid); // adopted
    expect(after.api!.pid).not.toBe(before.api!.pid); // restarted
    expect(after.web!.port).toBe(before.web!.port);
    expect(after.api!.port).toBe(before.api!.port);
    expect(await (await fetch(after.web!.url!)).text()).toContain("hello from web");
    expect(await (await fetch(after.api!.url!)).text()).toContain("hello from api");

    // The adopted one is supervised like any other: stopping it ends its group.
    await h.services.stop("c1", "web");
    expect(liveInGroups([before.web!.pid!])).toEqual([]);
  });
});
