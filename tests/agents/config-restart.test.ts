import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentChannelEvent } from "../../shared/agents.ts";
import { MODEL_ID, PROVIDER_ID } from "../fixtures/model-server.ts";
import { until } from "../services/harness.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;
let cellId: string;

beforeAll(async () => {
  world = await startAgentWorld();
  const cell = await world.createCell({ name: "Configured" });
  cellId = (await world.waitForSession(cell.id)).id;
}, 90_000);

afterAll(async () => {
  await world?.close();
});

/** The workspace's opencode.json with one more model in the scripted provider, and the model it names. */
function writeOpencodeJson(extraModel: string, model = MODEL_ID): void {
  const provider = world.model.providerConfig() as Record<string, { models: Record<string, unknown> }>;
  provider[PROVIDER_ID]!.models[extraModel] = { name: `Model ${extraModel}` };
  world.repo.write(
    "opencode.json",
    JSON.stringify({ provider, model: `${PROVIDER_ID}/${model}`, permission: { bash: "ask" } }),
  );
}

async function modelIds(): Promise<string[]> {
  const r = await world.hive.api("GET", `/api/workspaces/${world.hive.workspaceId}/agent/providers`);
  expect(r.status).toBe(200);
  return r.body.providers
    .find((p: { id: string }) => p.id === PROVIDER_ID)
    .models.map((m: { id: string }) => m.id);
}

const server = () => world.hive.hive.agents.serverFor(world.hive.workspaceId).server;

const gitStatus = (dir: string) => execFileSync("git", ["status", "--porcelain"], { cwd: dir }).toString();

const isStatus = (status: string, detail?: RegExp) => (e: AgentChannelEvent) =>
  e.type === "status" && e.status === status && (!detail || detail.test(e.detail ?? ""));

describe("a committed opencode.json", () => {
  it("is OpenCode's config for the cell's agent and is left as it is, in the checkout and in the worktree", async () => {
    // OpenCode, left to find project configs itself, wrote a `$schema` line into each copy it read.
    world.repo.commit("opencode config");
    expect(gitStatus(world.repo.path)).toBe("");
    world.model.script({ text: ["Configured by the workspace's file."] });
    const cell = await world.createCell({ name: "Committed config", description: "Say it." });
    await world.waitForSession(cell.id);
    await world.waitForEvent(
      cell.id,
      (e) => e.type === "delta" && e.delta === "Configured by the workspace's file.",
      120_000,
    );
    await world.waitForEvent(cell.id, (e) => e.type === "status" && e.status === "idle");

    const worktree = world.hive.hive.cells.get(cell.id).worktreePath!;
    expect(gitStatus(worktree)).toBe("");
    expect(gitStatus(world.repo.path)).toBe("");
  }, 180_000);
});

describe("a changed opencode.json", () => {
  it("restarts the workspace's idle OpenCode with it; the session and its transcript survive", async () => {
    world.model.script({ text: ["Before the change."] });
    await world.hive.api("POST", `/api/cells/${cellId}/agent/messages`, { text: "Hello" });
    await world.waitForEvent(cellId, (e) => e.type === "delta" && e.delta === "Before the change.");
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "idle", "the run to end");
    expect(await modelIds()).not.toContain("added-model");
    const pid = server().pid;
    const seen = world.events(cellId).length;

    writeOpencodeJson("added-model");
    const restarting = await world.waitForEvent(cellId, isStatus("starting", /opencode\.json changed/));
    expect(world.events(cellId).indexOf(restarting)).toBeGreaterThanOrEqual(seen);
    await until(
      () => server().state.kind === "running" && server().pid !== undefined && server().pid !== pid,
      "a new OpenCode",
      60_000,
    );
    await world.waitForEvent(cellId, (e) => isStatus("idle")(e) && world.events(cellId).indexOf(e) > seen);
    // The new server read the new file: it offers the added model.
    expect(await modelIds()).toContain("added-model");

    const again = await world.hive.api("GET", `/api/cells/${cellId}/agent`);
    expect(again.body.sessionId).toBe(world.hive.hive.cells.get(cellId).opencodeSessionId);
    const texts = again.body.messages.flatMap((m: { parts: { text?: string }[] }) =>
      m.parts.map((p) => p.text),
    );
    expect(texts).toContain("Before the change.");
    world.model.script({ text: ["After the change."] });
    await world.hive.api("POST", `/api/cells/${cellId}/agent/messages`, { text: "Still there?" });
    await world.waitForEvent(cellId, (e) => e.type === "delta" && e.delta === "After the change.");
  }, 150_000);

  it("waits for a run to end before restarting, and says so", async () => {
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "idle", "an idle agent");
    world.model.script({ text: ["A ", "slow ", "answer ", "that ", "ends ", "here."], chunkDelayMs: 700 });
    await world.hive.api("POST", `/api/cells/${cellId}/agent/messages`, { text: "Take your time" });
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "working", "the run to start");
    const pid = server().pid;

    writeOpencodeJson("late-model");
    await world.waitForEvent(cellId, isStatus("working", /restarts with it once .* idle/));
    // Mid-run nothing restarts: the answer streams to its end on the same server, then it restarts.
    const last = await world.waitForEvent(cellId, (e) => e.type === "delta" && e.delta === "here.");
    const lastDelta = world.events(cellId).indexOf(last);
    await world.waitForEvent(
      cellId,
      (e) => isStatus("starting", /restarting OpenCode/)(e) && world.events(cellId).indexOf(e) > lastDelta,
    );
    await until(
      () => server().state.kind === "running" && server().pid !== undefined && server().pid !== pid,
      "a new OpenCode",
      60_000,
    );
    expect(await modelIds()).toContain("late-model");
    const transcript = await world.hive.api("GET", `/api/cells/${cellId}/agent/messages`);
    const texts = transcript.body.flatMap((m: { parts: { text?: string }[] }) => m.parts.map((p) => p.text));
    expect(texts).toContain("A slow answer that ends here.");
  }, 150_000);

  it("a model it names instead is the one the cell's next message goes to, in the same session", async () => {
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "idle", "an idle agent");
    // The session has used the first model: OpenCode alone would keep to it for the session's next messages.
    expect(world.model.requests.filter((r) => !r.auxiliary).at(-1)?.model).toBe(MODEL_ID);
    const pid = server().pid;
    writeOpencodeJson("switched-model", "switched-model");
    await until(
      () => server().state.kind === "running" && server().pid !== undefined && server().pid !== pid,
      "a new OpenCode",
      60_000,
    );
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "idle", "an idle agent");
    const sent = world.model.requests.filter((r) => !r.auxiliary).length;
    world.model.script({ text: ["From the switched model."] });
    await world.hive.api("POST", `/api/cells/${cellId}/agent/messages`, { text: "Which model?" });
    await world.model.waitForRequests(sent + 1);
    expect(world.model.requests.filter((r) => !r.auxiliary)[sent]!.model).toBe("switched-model");
    await world.waitForEvent(cellId, (e) => e.type === "delta" && e.delta === "From the switched model.");
  }, 150_000);

  it("an unreadable opencode.json leaves OpenCode running with the previous one, and says so", async () => {
    await until(() => world.hive.hive.cells.get(cellId).agentStatus === "idle", "an idle agent");
    const pid = server().pid;
    const good = readFileSync(join(world.repo.path, "opencode.json"), "utf8");
    world.repo.write("opencode.json", "{ this is not json");
    const invalid = await world.waitForEvent(
      cellId,
      isStatus("idle", /opencode\.json is not valid JSON.*previous settings/),
    );
    expect(server().pid).toBe(pid);
    expect(server().state.kind).toBe("running");
    // Fixed back to what OpenCode runs with: nothing restarts, and the notice goes.
    world.repo.write("opencode.json", good);
    await world.waitForEvent(
      cellId,
      (e) =>
        isStatus("idle")(e) &&
        e.type === "status" &&
        e.detail === null &&
        world.events(cellId).indexOf(e) > world.events(cellId).indexOf(invalid),
    );
    expect(server().pid).toBe(pid);
  }, 60_000);
});
