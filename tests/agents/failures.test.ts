import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { makeRepo } from "../helpers/repo.ts";
import { startHive } from "../helpers/server.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;

beforeAll(async () => {
  world = await startAgentWorld({
    config: {
      templates: [
        { id: "basic", label: "Basic" },
        { id: "broken", label: "Broken prompts", prompts: ["prompts/missing.md"] },
        { id: "second", label: "Second model", agent: { providerId: "scripted", modelId: "second-model" } },
      ],
    },
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const agentStep = (cellId: string) =>
  world.hive.hive.timings.forCell(cellId).find((t) => t.step === "ensure_agent_session")!;

describe("when the agent cannot work", () => {
  it("a missing prompt fragment is a provisioning error naming the file, and the cell is still usable", async () => {
    const cell = await world.createCell({ name: "Broken", templateId: "broken", description: "anything" });
    const after = await world.waitForSession(cell.id);
    expect(after.status).toBe("ready");
    expect(agentStep(cell.id).outcome).toBe("error");
    expect(agentStep(cell.id).detail).toContain("prompts/missing.md");
    expect(after.agentStatus).toBe("error");
    expect(after.agentStatusDetail).toContain("prompts/missing.md");
  }, 90_000);

  it("an unknown model is an error naming provider and model, never a silent fallback", async () => {
    const cell = await world.createCell({
      name: "Unknown model",
      description: "anything",
      agent: { providerId: "scripted", modelId: "no-such-model" },
    });
    const after = await world.waitForSession(cell.id);
    expect(agentStep(cell.id).outcome).toBe("error");
    expect(after.agentStatusDetail).toContain("Unknown model 'no-such-model' of provider 'scripted'");
    expect(world.model.requests.filter((r) => !r.auxiliary)).toHaveLength(0);
  }, 90_000);

  it("the template's model is used unless the cell chose one", async () => {
    const a = await world.createCell({ name: "Template model", templateId: "second", description: "first" });
    const mainRequests = () => world.model.requests.filter((r) => !r.auxiliary).length;
    const before = mainRequests();
    await world.waitForSession(a.id);
    await world.model.waitForRequests(before + 1);
    expect(world.model.requests.filter((r) => !r.auxiliary).at(-1)!.model).toBe("second-model");
    const b = await world.createCell({
      name: "Cell model",
      templateId: "second",
      description: "second",
      agent: { providerId: "scripted", modelId: "scripted-model", mode: "plan" },
    });
    await world.waitForSession(b.id);
    await world.model.waitForRequests(before + 2);
    expect(world.model.requests.filter((r) => !r.auxiliary).at(-1)!.model).toBe("scripted-model");
    const snap = await world.hive.api("GET", `/api/cells/${b.id}/agent`);
    expect(snap.body.mode).toBe("plan");
    const providers = await world.hive.api(
      "GET",
      `/api/workspaces/${world.hive.workspaceId}/agent/providers`,
    );
    const scripted = providers.body.providers.find((p: { id: string }) => p.id === "scripted");
    expect(scripted.models.map((m: { id: string }) => m.id).sort()).toEqual([
      "scripted-model",
      "second-model",
    ]);
  }, 90_000);

  it("a model endpoint refusing puts the agent in error with what to do", async () => {
    const cell = await world.createCell({ name: "Refused" });
    await world.waitForSession(cell.id);
    world.model.script({ refuse: 401 });
    await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "hello" });
    const c = await world.hive.waitForCell(cell.id, (x) => x?.agentStatus === "error", 60_000);
    expect(c?.agentStatusDetail).toMatch(/refused|failed/);
    expect(c?.agentStatusDetail).toContain("opencode.json");
  }, 90_000);

  it("a cell without a description gets no first prompt", async () => {
    const before = world.model.requests.filter((r) => !r.auxiliary).length;
    const cell = await world.createCell({ name: "Quiet" });
    await world.waitForSession(cell.id);
    const prompt = await world.hive.api("GET", `/api/cells/${cell.id}/agent/prompt`);
    expect(prompt.body.prompt).toBeNull();
    expect(agentStep(cell.id).detail).toContain("no first prompt");
    expect(world.model.requests.filter((r) => !r.auxiliary)).toHaveLength(before);
  }, 90_000);
});

describe("when OpenCode is missing", () => {
  it("the agent status says so and what to do, and the cell is ready anyway", async () => {
    const repo = makeRepo();
    const hive = await startHive(repo.path, { opencodeEnv: { HIVE_OPENCODE_BIN: "/nonexistent/opencode" } });
    try {
      const r = await hive.api("POST", "/api/cells", {
        workspaceId: hive.workspaceId,
        templateId: "basic",
        name: "No agent",
      });
      const cell = await hive.waitForCell(r.body.id, (c) => c?.agentStatus === "error");
      expect(cell?.status).toBe("ready");
      expect(cell?.agentStatusDetail).toContain("OpenCode is not installed at /nonexistent/opencode");
      expect(cell?.agentStatusDetail).toContain("HIVE_OPENCODE_BIN");

      // The chat says the same, and its message box does not claim the agent is still starting.
      const browser = await launchBrowser();
      try {
        const page = await signedInPage(browser, startUrlOf(hive));
        await page.goto(`${hive.url}/cells/${r.body.id}`);
        const chat = page.locator("hive-agent-chat");
        await chat.locator("[data-status='error']").waitFor({ timeout: 30_000 });
        expect(await chat.locator("header .detail").textContent()).toContain("OpenCode is not installed");
        const box = chat.getByLabel("Message to the agent");
        expect(await box.isDisabled()).toBe(true);
        expect(await box.getAttribute("placeholder")).toBe(
          "The agent could not start; its status above says why.",
        );
      } finally {
        await browser.close();
      }
    } finally {
      await hive.close();
      repo.cleanup();
    }
  }, 60_000);
});
