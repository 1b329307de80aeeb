import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ChecklistStep } from "../../shared/records.ts";
import {
  type ResourcesResponse,
  ServiceLogResponseSchema,
  type ServiceState,
  type ServicesEvent,
} from "../../shared/services.ts";
import type { TermSnapshot } from "../../shared/terminals.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";
import { liveInGroups, serviceCommand } from "./harness.ts";

/** A cell of a template with a web service that depends on an api service, through the real server. */
describe("services through the HTTP API", () => {
  let repo: TempRepo;
  let h: TestHive;
  let cellId: string;

  beforeAll(async () => {
    repo = makeRepo();
    repo.writeConfig({
      templates: [
        {
          id: "web",
          label: "Web app",
          setup: ["echo setup sees web on $HIVE_PORT_WEB"],
          services: {
            web: {
              run: `echo "api at $HIVE_URL_API"; ${serviceCommand("--name web")}`,
              readyUrl: "http://127.0.0.1:$PORT/",
              dependsOn: ["api"],
            },
            api: { run: serviceCommand("--name api --delay 200"), readyPattern: "listening on \\d+" },
          },
        },
      ],
    });
    repo.commit("config");
    h = await startHive(repo.path);
    const created = await h.api("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "web",
      name: "site",
    });
    expect(created.status).toBe(201);
    cellId = created.body.id;
    await h.waitForCell(cellId, (c) => c?.status === "ready" || c?.status === "error", 60_000);
  });

  afterAll(async () => {
    await h?.close();
    repo?.cleanup();
  });

  it("starts the services on the checklist in dependency order and lists them ready", async () => {
    const steps = (await h.api<ChecklistStep[]>("GET", `/api/cells/${cellId}/checklist`)).body;
    const names = steps.map((s) => s.step);
    expect(names.indexOf("ensure_services:api")).toBeLessThan(names.indexOf("ensure_services:web"));
    expect(steps.find((s) => s.step === "ensure_services:web")?.state).toBe("done");
    const list = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
    expect(list.map((s) => [s.name, s.status])).toEqual([
      ["api", "ready"],
      ["web", "ready"],
    ]);
    // Ports exist before the first step: setup commands (and the agent's prompt) see them.
    const setupLog = await h.api("GET", `/api/cells/${cellId}/setup-log`);
    expect(setupLog.body).toContain(`setup sees web on ${list[1]!.port}`);
    const log = ServiceLogResponseSchema.parse(
      (await h.api("GET", `/api/cells/${cellId}/services/web/log`)).body,
    );
    expect(log.text).toContain(`api at http://127.0.0.1:${list[0]!.port}`);
  });

  it("proxies the service behind the same sign-in, WebSockets included", async () => {
    const page = await fetch(`${h.url}/cells/${cellId}/proxy/web/some/page?x=1`, { headers: h.headers });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("hello from web</h1><p>path /some/page?x=1");

    // Redirects and cookies of the service stay under its prefix.
    const redirect = await fetch(`${h.url}/cells/${cellId}/proxy/web/redirect`, {
      headers: h.headers,
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(`/cells/${cellId}/proxy/web/landing`);
    expect(redirect.headers.get("set-cookie")).toBe(`svc=1; Path=/cells/${cellId}/proxy/web/`);

    const anonymous = await fetch(`${h.url}/cells/${cellId}/proxy/web/`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain("hello from web");

    const bare = await fetch(`${h.url}/cells/${cellId}/proxy/web`, {
      headers: h.headers,
      redirect: "manual",
    });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe(`/cells/${cellId}/proxy/web/`);

    const wsUrl = `${h.url.replace("http", "ws")}/cells/${cellId}/proxy/web/ws`;
    const ws = new WebSocket(wsUrl, { headers: { ...h.headers, origin: h.url } });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send("ping"));
      ws.once("message", (d) => resolve(d.toString()));
      ws.once("error", reject);
    });
    ws.close();
    expect(echoed).toBe("echo:ping");

    const refused = new WebSocket(wsUrl, { headers: { origin: h.url } });
    const status = await new Promise<number>((resolve) => {
      refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      refused.once("open", () => resolve(101));
    });
    expect(status).toBe(401);
  });

  it("stops, starts and restarts one service or all, and says what was wrong", async () => {
    const stopped = await h.api<ServiceState>("POST", `/api/cells/${cellId}/services/web/stop`);
    expect(stopped.body.status).toBe("stopped");
    expect((await fetch(`${h.url}/cells/${cellId}/proxy/web/`, { headers: h.headers })).status).toBe(503);

    await h.api("POST", `/api/cells/${cellId}/services/web/start`);
    await waitStatus("web", "ready");

    const before = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
    const all = await h.api<ServiceState[]>("POST", `/api/cells/${cellId}/services/restart`);
    expect(all.status).toBe(200);
    await waitStatus("web", "ready");
    await waitStatus("api", "ready");
    const after = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
    expect(after.map((s) => s.port)).toEqual(before.map((s) => s.port));
    expect(after.map((s) => s.pid)).not.toEqual(before.map((s) => s.pid));

    const bad = await h.api("POST", `/api/cells/${cellId}/services/web/explode`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/params\.action/);
    const unknown = await h.api("POST", `/api/cells/${cellId}/services/nope/start`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain("no service 'nope'");
    expect((await h.api("GET", "/api/cells/nosuchcell/services")).status).toBe(404);
  });

  it("streams status and each service's log over the one socket, the log replayed like a shell's screen", async () => {
    const sock = await TestSocket.connect(h.url, { ...h.headers, origin: h.url });
    try {
      const snap = await sock.subscribe(`services:${cellId}`);
      expect(snap.type).toBe("snapshot");
      const state = (snap as { state: { services: ServiceState[] } }).state;
      expect(state.services.map((s) => s.name)).toEqual(["api", "web"]);

      const log = await sock.subscribe(`svclog:${cellId}_web`);
      const screen = (log as { state: TermSnapshot }).state;
      expect(screen.screen).toContain("web: listening on");
      let live = "";
      sock.onBinary(screen.numericId, (bytes) => {
        live += new TextDecoder().decode(bytes);
      });
      const ready = sock.next(
        (f) =>
          f.type === "event" &&
          f.channel === `services:${cellId}` &&
          (f.event as ServicesEvent).type === "service.updated" &&
          (f.event as { service: ServiceState }).service.status === "ready",
      );
      await h.api("POST", `/api/cells/${cellId}/services/web/restart`);
      await ready;
      const deadline = Date.now() + 10_000;
      while (!live.includes("web: listening on") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(live).toContain("stopping (SIGTERM)");
      expect(live).toContain("web: listening on");
      expect(live).not.toMatch(/[^\r]\n/); // a terminal needs \r\n

      const bad = await sock.subscribe(`svclog:${cellId}_nope`);
      expect(bad.type).toBe("error");
    } finally {
      sock.close();
    }
  });

  it("samples CPU and memory of the cell's services", async () => {
    h.hive.services.resources.sample();
    await new Promise((r) => setTimeout(r, 300));
    h.hive.services.resources.sample();
    const r = (await h.api<ResourcesResponse>("GET", `/api/cells/${cellId}/resources?minutes=5`)).body;
    expect(r.history.length).toBeGreaterThanOrEqual(2);
    expect(r.latest!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(Object.keys(r.latest!.bySource)).toEqual(expect.arrayContaining(["service:web", "service:api"]));
    expect((await h.api("GET", `/api/cells/${cellId}/resources?minutes=0`)).status).toBe(400);
  });

  it("deleting the cell leaves no service process behind", async () => {
    const pids = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body.map(
      (s) => s.pid!,
    );
    expect(liveInGroups(pids)).toHaveLength(2);
    expect((await h.api("DELETE", `/api/cells/${cellId}`)).status).toBe(202);
    await h.waitForCell(cellId, (c) => c === undefined, 60_000);
    expect(liveInGroups(pids)).toEqual([]);
    const stop = h.hive.timings.forCell(cellId).find((t) => t.step === "stop_services");
    expect(stop?.outcome).toBe("ok");
    expect(stop?.detail).toBe("stopped 2 service(s), released their ports");
  });

  async function waitStatus(name: string, status: ServiceState["status"]) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = (await h.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
      if (list.find((s) => s.name === name)?.status === status) return;
      if (Date.now() > deadline) throw new Error(`${name} never became ${status}: ${JSON.stringify(list)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

describe("services of a Hive with one template", () => {
  let repo: TempRepo | undefined;
  let h: TestHive | undefined;

  afterEach(async () => {
    await h?.close();
    repo?.cleanup();
    h = repo = undefined;
  });

  /** A Hive on a fresh repository with this one template, and a ready cell of it. */
  async function readyCellOf(services: object, options: Parameters<typeof startHive>[1] = {}) {
    repo = makeRepo();
    repo.writeConfig({ templates: [{ id: "t", label: "T", services }] });
    repo.commit("config");
    const hive = await startHive(repo.path, options);
    h = hive;
    const created = await hive.api("POST", "/api/cells", {
      workspaceId: hive.workspaceId,
      templateId: "t",
      name: "w",
    });
    const cell = await hive.waitForCell(created.body.id, (c) => c?.status !== "spawning", 60_000);
    expect(cell?.status, cell?.lastSetupError ?? "").toBe("ready");
    return { hive, cellId: created.body.id as string };
  }

  it("shows a person a page that says why a service does not answer and tries again; a script gets JSON", async () => {
    // Given a port, as every service is unless `"port": false`, but never listening on it.
    const { hive, cellId } = await readyCellOf({ worker: { run: "sleep 600" } });
    const url = `${hive.url}/cells/${cellId}/proxy/worker/`;

    const page = await fetch(url, {
      headers: { ...hive.headers, accept: "text/html,application/xhtml+xml" },
    });
    expect(page.status).toBe(502);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain("<h1");
    expect(html).toContain("worker is not answering");
    expect(html).toMatch(/did not answer at http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
    expect(html).toContain('<code>"port": false</code>');

    const api = await fetch(url, { headers: hive.headers });
    expect(api.status).toBe(502);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
  });

  it("checks, links and proxies services on loopback when Hive answers on another address (LAN, VPN)", async () => {
    // All of 127.0.0.0/8 is this machine, but 127.0.0.2 is another address than the services listen on.
    const { hive, cellId } = await readyCellOf(
      {
        // Listens on 127.0.0.1 only, as most dev servers do by default.
        api: { run: serviceCommand("--name api"), readyPort: true, readyTimeoutMs: 10_000 },
        client: { run: 'echo "api at $HIVE_URL_API"; exec sleep 600', port: false, dependsOn: ["api"] },
      },
      { host: "127.0.0.2" },
    );
    const [api] = (await hive.api<ServiceState[]>("GET", `/api/cells/${cellId}/services`)).body;
    expect(api!.url).toBe(`http://127.0.0.1:${api!.port}`);
    const log = ServiceLogResponseSchema.parse(
      (await hive.api("GET", `/api/cells/${cellId}/services/client/log`)).body,
    );
    expect(log.text).toContain(`api at http://127.0.0.1:${api!.port}`);
    expect((await fetch(`${hive.url}/cells/${cellId}/proxy/api/`, { headers: hive.headers })).status).toBe(
      200,
    );
  });
});
