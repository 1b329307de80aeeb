import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_TAIL_BYTES, LOG_TAIL_LINES, logTail } from "../../server/agents/hive-tools/tool-calls.ts";
import type { AgentActivity, AgentPart } from "../../shared/agents.ts";
import type { ServiceState } from "../../shared/services.ts";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { type RecordedRequest, requestText } from "../fixtures/model-server.ts";
import { tempDir } from "../helpers/repo.ts";
import { serviceCommand, until } from "../services/harness.ts";
import { TestSocket } from "../socket/ws-client.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;

beforeAll(async () => {
  world = await startAgentWorld({
    config: {
      templates: [
        {
          id: "basic",
          label: "Basic",
          setup: ["echo setting up the cell"],
          services: { web: { run: serviceCommand("--name web"), readyPattern: "listening" } },
        },
      ],
    },
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

/** The agent token and Hive address Hive gave the workspace's OpenCode. */
function toolCredentials(): { url: string; token: string; file: string } {
  const slug = world.hive.hive.workspaces.list()[0]!.slug;
  const file = join(world.hive.home, "run", "agent-tools", slug, "hive-tools.json");
  return { ...(JSON.parse(readFileSync(file, "utf8")) as { url: string; token: string }), file };
}

async function webService(cellId: string): Promise<ServiceState> {
  const r = await world.hive.api("GET", `/api/cells/${cellId}/services`);
  return (r.body as ServiceState[]).find((s) => s.name === "web")!;
}

/** The first part of this tool in this state among the cell's agent events from index `since` on. */
function toolPart(cellId: string, tool: string, status = "completed", since = 0): Promise<AgentPart> {
  return world
    .waitForEvent(
      cellId,
      (e) =>
        e.type === "part" &&
        e.part.tool === tool &&
        e.part.state?.status === status &&
        world.events(cellId).indexOf(e) >= since,
    )
    .then((e) => (e as { part: AgentPart }).part);
}

/** The model request (other cells' requests may come between) that carries this text back to the model. */
async function requestWith(text: string): Promise<RecordedRequest> {
  const find = () => world.model.requests.find((r) => !r.auxiliary && requestText(r).includes(text));
  await expect.poll(find, { timeout: 120_000 }).toBeTruthy();
  return find()!;
}

async function activity(cellId: string): Promise<AgentActivity[]> {
  return (await world.hive.api("GET", `/api/cells/${cellId}/agent/activity`)).body as AgentActivity[];
}

async function toolCall(
  tool: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { output?: string; error?: { code: string; message: string } } }> {
  const { url, token } = toolCredentials();
  const res = await fetch(`${url}/api/agent-tools/${tool}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe("Hive's tools for the agent", () => {
  it("lists the cell's services with their real ports through the real OpenCode, recorded in the activity", async () => {
    const cell = await world.createCell({ name: "Tools" });
    await world.hive.waitForCell(cell.id, (c) => c?.status === "ready", 60_000);
    await world.waitForSession(cell.id);
    const web = await webService(cell.id);
    expect(web.port).toBeGreaterThan(0);

    const sock = await TestSocket.connect(world.hive.url, world.hive.headers);
    try {
      const snap = await sock.subscribe(`agent:${cell.id}`);
      expect(snap).toMatchObject({ type: "snapshot", state: { activity: [] } });
      const live = sock.next(
        (f) =>
          f.type === "event" &&
          f.channel === `agent:${cell.id}` &&
          (f.event as { type: string }).type === "activity",
        120_000,
      );
      world.model.script({ toolCalls: [{ name: "hive_services", args: {} }] }, { text: ["Seen them."] });
      await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Which services run?" });

      const part = await toolPart(cell.id, "hive_services");
      expect(String(part.state?.output)).toContain(`web: ready port ${web.port} ${web.url}`);
      // The real OpenCode handed the tool's answer back to the model.
      const followUp = await requestWith(`web: ready port ${web.port}`);
      expect(followUp.tools).toEqual(
        expect.arrayContaining([
          "hive_services",
          "hive_service_log",
          "hive_setup_log",
          "hive_restart_service",
        ]),
      );

      const pushed = (await live) as { event: { activity: AgentActivity } };
      expect(pushed.event.activity).toMatchObject({ cellId: cell.id, tool: "hive_services", ok: true });
      const rows = await activity(cell.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ tool: "hive_services", ok: true, summary: `web ready :${web.port}` });
    } finally {
      sock.close();
    }
  }, 180_000);

  it("restarts a service and reads its log and the setup log", async () => {
    const cell = await world.createCell({ name: "Restarter" });
    await world.hive.waitForCell(cell.id, (c) => c?.status === "ready", 60_000);
    await world.waitForSession(cell.id);
    const before = await webService(cell.id);

    world.model.script(
      { toolCalls: [{ name: "hive_restart_service", args: { service: "web" } }] },
      { toolCalls: [{ name: "hive_service_log", args: { service: "web" } }] },
      { toolCalls: [{ name: "hive_setup_log", args: {} }] },
      { toolCalls: [{ name: "hive_service_log", args: { service: "nope" } }] },
      { text: ["All done."] },
    );
    await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Restart web, read logs" });

    const restarted = await toolPart(cell.id, "hive_restart_service");
    expect(String(restarted.state?.output)).toMatch(/^web: (starting|ready) port \d+/);
    const log = await toolPart(cell.id, "hive_service_log");
    expect(String(log.state?.output)).toContain("listening");
    const setup = await toolPart(cell.id, "hive_setup_log");
    expect(String(setup.state?.output)).toContain("setting up the cell");
    const failed = await toolPart(cell.id, "hive_service_log", "error");
    await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "All done.");
    expect(String(failed.state?.error)).toContain("This cell has no service 'nope'; its services: web.");

    let after = await webService(cell.id);
    for (let i = 0; after.status !== "ready" && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await webService(cell.id);
    }
    expect(after.status).toBe("ready");
    expect(after.pid).not.toBe(before.pid);
    expect(after.port).toBe(before.port);
    const rows = await activity(cell.id);
    expect(rows.map((r) => [r.tool, r.ok])).toEqual([
      ["hive_restart_service", true],
      ["hive_service_log", true],
      ["hive_setup_log", true],
      ["hive_service_log", false],
    ]);
    expect(rows[0]!.input).toEqual({ service: "web" });
    expect(rows[3]!.summary).toContain("no service 'nope'");
  }, 180_000);

  it("refuses a call from a directory that is not a cell, even through the real OpenCode", async () => {
    const ws = world.hive.hive.agents.serverFor(world.hive.workspaceId);
    const repoDir = world.repo.path;
    const session = await ws.api.request<{ id: string }>("POST", "/session", repoDir, {
      title: "not a cell",
    });
    world.model.script({ toolCalls: [{ name: "hive_services", args: {} }] }, { text: ["Refused."] });
    await ws.api.request("POST", `/session/${session.id}/prompt_async`, repoDir, {
      parts: [{ type: "text", text: "List services" }],
    });
    await requestWith(`'${repoDir}' is not the worktree of a live cell of this workspace`);
  }, 180_000);

  it("answers only to the workspace's agent token, for its own cell and session", async () => {
    const cell = world.hive.hive.cells.list().find((c) => c.name === "Tools")!;
    const other = world.hive.hive.cells.list().find((c) => c.name === "Restarter")!;
    const { file } = toolCredentials();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const rowsBefore = (await activity(cell.id)).length;

    const ok = await toolCall("services", {
      directory: cell.worktreePath,
      sessionId: cell.opencodeSessionId,
      args: {},
    });
    expect(ok).toMatchObject({ status: 200, body: { output: expect.stringContaining("web: ready") } });

    const notACell = await toolCall("services", { directory: world.repo.path, sessionId: "ses_x", args: {} });
    expect(notACell.status).toBe(403);
    const otherSession = await toolCall("services", {
      directory: cell.worktreePath,
      sessionId: other.opencodeSessionId,
      args: {},
    });
    expect(otherSession).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
    expect(otherSession.body.error?.message).toContain("belongs to another cell");
    const fromPage = await toolCall(
      "services",
      { directory: cell.worktreePath, sessionId: cell.opencodeSessionId, args: {} },
      { origin: world.hive.url },
    );
    expect(fromPage.status).toBe(403);
    const unknownTool = await toolCall("delete_everything", {
      directory: cell.worktreePath,
      sessionId: cell.opencodeSessionId,
      args: {},
    });
    expect(unknownTool.status).toBe(400);
    expect(unknownTool.body.error?.message).toContain("params.tool");
    const badArgs = await toolCall("restart_service", {
      directory: cell.worktreePath,
      sessionId: cell.opencodeSessionId,
      args: { service: 42 },
    });
    expect(badArgs.status).toBe(400);
    expect(badArgs.body.error?.message).toContain("Bad arguments ('service': ");

    // The user's own token opens the rest of the API, not the agent's tools.
    const asUser = await toolCall(
      "services",
      { directory: cell.worktreePath, sessionId: cell.opencodeSessionId, args: {} },
      { authorization: world.hive.headers.authorization! },
    );
    expect(asUser).toMatchObject({ status: 401, body: { error: { code: "UNAUTHORIZED" } } });
    // The agent's token opens nothing else.
    const { url, token } = toolCredentials();
    const cells = await fetch(`${url}/api/cells/${cell.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(cells.status).toBe(401);

    // Refused callers leave no trace in a cell's activity; a call with bad arguments is the agent's, and is kept.
    const rows = await activity(cell.id);
    expect(rows.slice(rowsBefore).map((r) => [r.tool, r.ok])).toEqual([
      ["hive_services", true],
      ["hive_restart_service", false],
    ]);
  }, 60_000);

  it("the chat pane shows each call as an activity line, live and after a reload", async () => {
    const cell = world.hive.hive.cells.list().find((c) => c.name === "Tools")!;
    const browser = await launchBrowser();
    try {
      const page = await signedInPage(browser, startUrlOf(world.hive));
      // What a failure needs to be understood; taken here, as the browser is closed before onTestFailed runs.
      const explain = async (e: unknown) => {
        await page.screenshot({ path: "/tmp/hive-tools-fail.png" }).catch(() => {});
        const asked = world.model.requests.map(
          (r) => `${r.auxiliary ? "aux" : "main"}: …${requestText(r).slice(-100)}`,
        );
        const chatText = (await chat.textContent().catch(() => ""))?.replace(/\s+/g, " ").slice(-600);
        console.error(
          `agent status: ${world.hive.hive.cells.get(cell.id).agentStatus}\nmodel requests:\n${asked.slice(-8).join("\n")}\nchat: ${chatText}`,
        );
        throw e;
      };
      await page.goto(`${world.hive.url}/cells/${cell.id}`);
      const chat = page.locator("hive-agent-chat");
      const lines = chat.locator(".activity");
      try {
        // From the snapshot: the calls of the tests before.
        await expect.poll(() => lines.count(), { timeout: 60_000 }).toBe(3);
        expect(await chat.locator(".activity.failed").textContent()).toContain("hive_restart_service");

        await chat.locator("[data-status='idle']").waitFor({ timeout: 60_000 });
        world.model.script({ toolCalls: [{ name: "hive_services", args: {} }] }, { text: ["Listed."] });
        const asked = world.model.requests.length;
        await chat.getByLabel("Message to the agent").fill("List the services again");
        await chat.getByLabel("Message to the agent").press("Enter");
        await until(
          () =>
            world.model.requests.slice(asked).some((r) => requestText(r).includes("List the services again")),
          "the message to reach the model",
          120_000,
        );
        await expect.poll(() => lines.count(), { timeout: 120_000 }).toBe(4);
        const web = await webService(cell.id);
        expect(await lines.last().textContent()).toContain(`hive_services: web ready :${web.port}`);
        await chat.locator(".text", { hasText: "Listed." }).waitFor({ timeout: 60_000 });
      } catch (e) {
        await explain(e);
      }
      await page.screenshot({ path: "/tmp/hive-tools-activity.png" });
    } finally {
      await browser.close();
    }
  }, 240_000);

  it("after a Hive restart the tools answer with a new token at the new address, and the old token is refused", async () => {
    const before = toolCredentials();
    await world.restartHive();
    const cell = world.hive.hive.cells.list().find((c) => c.name === "Tools")!;
    const now = toolCredentials();
    expect(now.token).not.toBe(before.token);
    expect(now.url).toBe(world.hive.url);
    const stale = await fetch(`${now.url}/api/agent-tools/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${before.token}`, "content-type": "application/json" },
      body: JSON.stringify({ directory: cell.worktreePath, sessionId: cell.opencodeSessionId, args: {} }),
    });
    expect(stale.status).toBe(401);

    const rows = (await activity(cell.id)).length;
    const since = world.events(cell.id).length;
    world.model.script({ toolCalls: [{ name: "hive_services", args: {} }] }, { text: ["Still here."] });
    await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "And now?" });
    const part = await toolPart(cell.id, "hive_services", "completed", since);
    expect(String(part.state?.output)).toContain("web: ");
    expect((await activity(cell.id)).length).toBe(rows + 1);
  }, 240_000);

  it("reads only the end of a huge log, in whole lines", () => {
    const dir = tempDir("hive-log-");
    const file = join(dir, "big.log");
    try {
      const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${"x".repeat(i % 300)}`);
      writeFileSync(file, `${lines.join("\n")}\n`);
      const tail = logTail(file);
      expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_TAIL_BYTES);
      const got = tail.split("\n");
      expect(got.length).toBeLessThanOrEqual(LOG_TAIL_LINES);
      expect(got.at(-1)).toBe(lines.at(-1));
      // Every line is whole: it is one of the lines written, in order.
      const first = lines.indexOf(got[0]!);
      expect(first).toBeGreaterThan(0);
      expect(got).toEqual(lines.slice(first, first + got.length));
      expect(logTail(join(file, "..", "missing.log"))).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
