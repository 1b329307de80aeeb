import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StepContext } from "../../server/cells/plan.ts";
import { servicesContributor } from "../../server/services/contributor.ts";
import { liveInGroups, ServicesHarness, serviceCommand, template, until } from "./harness.ts";

const RANGE: [number, number] = [23400, 23599];

describe("service lifecycle", () => {
  let h: ServicesHarness;

  afterEach(async () => {
    await h?.close();
  });

  async function provision(cellId: string, services: Parameters<typeof template>[0]) {
    const cell = h.addCell(cellId);
    const tpl = template(services);
    await h.services.prepare(cell, tpl);
    return { cell, tpl };
  }

  it("waits for the ready pattern in the service's output", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web --delay 300"), readyPattern: "listening on \\d+" },
    });
    const detail = await h.services.ensure("c1", "web");
    const web = h.services.get("c1", "web");
    expect(web.status).toBe("ready");
    expect(detail).toContain(`ready on port ${web.port}`);
    expect(await (await fetch(web.url!)).text()).toContain("hello from web");
    expect(h.services.log("c1", "web").tail(4096)).toContain(`web: listening on ${web.port}`);
  });

  it("waits for the ready URL to answer 2xx", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: {
        run: serviceCommand("--quiet --delay 400"),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Hive substitutes ${PORT}, not JavaScript.
        readyUrl: "http://127.0.0.1:${PORT}/health",
      },
    });
    await h.services.ensure("c1", "web");
    const web = h.services.get("c1", "web");
    expect(web.status).toBe("ready");
    expect((await fetch(`${web.url}/health`)).status).toBe(200);
  });

  it("waits for the port to accept connections", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", { web: { run: serviceCommand("--quiet --delay 400"), readyPort: true } });
    await h.services.ensure("c1", "web");
    expect(h.services.get("c1", "web").status).toBe("ready");
  });

  it("starts services in dependency order, each seeing the others' ports", async () => {
    h = new ServicesHarness(RANGE);
    const { cell, tpl } = await provision("c1", {
      web: {
        run: `echo "api is $HIVE_URL_API, mine is $PORT"; ${serviceCommand("--name web")}`,
        readyPattern: "listening",
        dependsOn: ["api"],
      },
      api: { run: serviceCommand("--name api --delay 300"), readyPattern: "listening" },
    });
    const steps = servicesContributor(h.services).readySteps!(cell, tpl);
    expect(steps.map((s) => s.name)).toEqual(["ensure_services:api", "ensure_services:web"]);
    const readyAt: Record<string, number> = {};
    h.bus.on("service.updated", ({ service }) => {
      if (service.status === "ready") readyAt[service.name] = Date.now();
      if (service.status === "starting" && service.name === "web") expect(readyAt.api).toBeDefined();
    });
    const progress: string[] = [];
    for (const step of steps) {
      const ctx: StepContext = {
        cell,
        template: tpl,
        workspace: { id: "ws1", path: h.root, slug: "ws", name: "ws", createdAt: "" },
        signal: new AbortController().signal,
        progress: (d) => progress.push(d),
      };
      await step.run(ctx);
    }
    expect(readyAt.web).toBeGreaterThanOrEqual(readyAt.api!);
    const [api, web] = [h.services.get("c1", "api"), h.services.get("c1", "web")];
    expect(h.services.log("c1", "web").tail(4096)).toContain(`api is ${api.url}, mine is ${web.port}`);
    expect(progress.some((p) => p.includes("listening"))).toBe(true);
  });

  it("fails with the output tail when the service is not ready in time", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web"), readyPattern: "never printed", readyTimeoutMs: 1500 },
    });
    await expect(h.services.ensure("c1", "web")).rejects.toThrow(
      /not ready after 1500 ms[\s\S]*web: listening on/,
    );
    const web = h.services.get("c1", "web");
    expect(web.status).toBe("error");
    expect(web.detail).toContain("output matching /never printed/");
    expect(web.pid).toBeNull();
  });

  it("restarts a crashed service under its restart policy", async () => {
    h = new ServicesHarness(RANGE);
    const marker = join(h.root, "crashed-once");
    await provision("c1", {
      web: {
        run: serviceCommand(`--name web --crash-once ${marker}`),
        readyPattern: "listening",
        restart: "on-failure",
      },
    });
    await h.services.ensure("c1", "web");
    expect(existsSync(marker)).toBe(true);
    const web = h.services.get("c1", "web");
    expect(web.status).toBe("ready");
    expect(web.restarts).toBe(1);
  });

  it('leaves a crashed service in error when its policy is "no"', async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web --crash-after 300"), readyPattern: "listening", restart: "no" },
    });
    await h.services.ensure("c1", "web");
    const web = await until(() => {
      const s = h.services.get("c1", "web");
      return s.status === "error" && s;
    }, "the crash");
    expect(web.exitCode).toBe(1);
    expect(web.detail).toMatch(/exit code 1[\s\S]*crashing after 300 ms/);
  });

  it("stops a crash loop with status error and the last output", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web --crash-after 50"), restart: "always" },
    });
    h.services.start("c1", "web");
    const web = await until(() => {
      const s = h.services.get("c1", "web");
      return s.status === "error" && s;
    }, "the crash loop to be detected");
    expect(web.detail).toMatch(/^crash loop: exited 5 times/);
    expect(web.detail).toContain("web: crashing after 50 ms");
    // Hive's own notes are dimmed in the log; the detail is plain text.
    expect(web.detail).toContain("[hive] exited (exit code 1)");
    expect(web.detail).not.toContain("\x1b");
    expect(web.restarts).toBe(4);
  });

  it("sends the stop signal, then SIGKILL after stopTimeoutMs", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web --ignore-term"), readyPattern: "listening", stopTimeoutMs: 500 },
    });
    await h.services.ensure("c1", "web");
    const pid = h.services.get("c1", "web").pid!;
    const stopped = await h.services.stop("c1", "web");
    expect(stopped.status).toBe("stopped");
    expect(liveInGroups([pid])).toEqual([]);
    const log = h.services.log("c1", "web").tail(4096);
    expect(log).toContain("web: ignoring SIGTERM");
    expect(log).toContain("still running after 500 ms: SIGKILL");
  });

  it("start, stop and restart by API keep the same port", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", { web: { run: serviceCommand("--name web"), readyPattern: "listening" } });
    await h.services.ensure("c1", "web");
    const first = h.services.get("c1", "web");
    await h.services.restart("c1", "web");
    const second = await until(() => {
      const s = h.services.get("c1", "web");
      return s.status === "ready" && s;
    }, "ready after restart");
    expect(second.pid).not.toBe(first.pid);
    expect(second.port).toBe(first.port);
    await h.services.stopAll("c1");
    expect(h.services.get("c1", "web").status).toBe("stopped");
    h.services.startAll("c1");
    await until(() => h.services.get("c1", "web").status === "ready", "ready after start all");
  });

  it("leaves no process behind when the cell is deleted", async () => {
    h = new ServicesHarness(RANGE);
    await provision("c1", {
      web: { run: serviceCommand("--name web --child"), readyPattern: "listening" },
      db: { run: `sleep 300 & ${serviceCommand("--name db")}`, readyPattern: "listening" },
    });
    await h.services.ensure("c1", "db");
    await h.services.ensure("c1", "web");
    const groups = [h.services.get("c1", "web").pid!, h.services.get("c1", "db").pid!];
    await until(() => liveInGroups(groups).length >= 4, "the grandchildren to start");
    const logDir = join(h.root, "logs", "services", "c1");
    expect(existsSync(logDir)).toBe(true);
    await h.services.teardown("c1", "delete");
    expect(liveInGroups(groups)).toEqual([]);
    expect(h.services.list("c1")).toEqual([]);
    expect(existsSync(logDir)).toBe(false);
  });

  it("leaves no process behind when Hive shuts down, and remembers to start them again", async () => {
    h = new ServicesHarness(RANGE);
    for (const id of ["c1", "c2"]) {
      await provision(id, { web: { run: serviceCommand("--child"), readyPattern: "listening" } });
      await h.services.ensure(id, "web");
    }
    const groups = ["c1", "c2"].map((id) => h.services.get(id, "web").pid!);
    await h.services.shutdown();
    expect(liveInGroups(groups)).toEqual([]);
    const row = h.db.prepare("SELECT desired FROM cell_services WHERE cell_id = 'c1'").get() as {
      desired: string;
    };
    expect(row.desired).toBe("running");
    expect(readFileSync(h.services.log("c1", "web").file, "utf8")).toContain("stopping (SIGTERM)");
  });
});
