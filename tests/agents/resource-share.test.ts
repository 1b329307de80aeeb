import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceSample, ResourcesResponse } from "../../shared/services.ts";
import { until } from "../services/harness.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;
let a: string;
let b: string;

beforeAll(async () => {
  world = await startAgentWorld();
  const [ca, cb] = await Promise.all([
    world.createCell({ name: "Share A" }),
    world.createCell({ name: "Share B" }),
  ]);
  a = (await world.waitForSession(ca!.id)).id;
  b = (await world.waitForSession(cb!.id)).id;
  // Samples are taken by hand here: the periodic one (every 5 s) would split the intervals the tests
  // reason about whenever a run takes longer, as it does on a loaded machine.
  world.hive.hive.services.resources.stop();
}, 90_000);

afterAll(async () => {
  await world?.close();
});

const sampler = () => world.hive.hive.services.resources;
const sampleOf = (samples: ResourceSample[], cellId: string) => samples.find((s) => s.cellId === cellId)!;

const status = (cellId: string) => world.hive.hive.cells.get(cellId).agentStatus;

describe("the agent's share in the resource view", () => {
  it("with every agent idle, OpenCode's CPU is the workspace's shared overhead and its memory is shared", async () => {
    await until(() => status(a) === "idle" && status(b) === "idle", "idle agents");
    sampler().sample();
    await new Promise((r) => setTimeout(r, 1000));
    const samples = sampler().sample();
    const server = sampler().agentServer(world.hive.workspaceId)!;
    expect(server.busyCells).toBe(0);
    // The real OpenCode server: a Bun process of some tens of MB at least.
    expect(server.rssBytes).toBeGreaterThan(20 * 1024 * 1024);
    expect(server.processes).toBeGreaterThan(0);
    for (const id of [a, b]) {
      const s = sampleOf(samples, id);
      expect(s.bySource.agent).toEqual({
        cpuPercent: 0,
        rssBytes: server.rssBytes,
        processes: server.processes,
      });
      // Shared memory is not added to the cell's own.
      expect(s.rssBytes).toBeLessThan(server.rssBytes);
      expect(s.cpuPercent).toBe(0 + (s.bySource.worktree?.cpuPercent ?? 0));
    }
    const r = await world.hive.api<ResourcesResponse>("GET", `/api/cells/${a}/resources`);
    expect(r.status).toBe(200);
    expect(r.body.agentServer).toMatchObject({ workspaceId: world.hive.workspaceId, busyCells: 0 });
    expect(r.body.latest?.bySource.agent?.rssBytes).toBe(server.rssBytes);
  }, 60_000);

  it("OpenCode's CPU goes to the cells whose agents were busy during the interval, evenly", async () => {
    world.model.script({ text: ["one ", "two ", "three ", "four ", "five."], chunkDelayMs: 300 });
    sampler().sample();
    await world.hive.api("POST", `/api/cells/${a}/agent/messages`, { text: "Count to five" });
    await until(() => status(a) === "working", "A to work");
    await until(() => status(a) === "idle", "A's run to end");
    // A's run ended before this sample, but within its interval: A still gets the CPU.
    const onlyA = sampler().sample();
    const server = sampler().agentServer(world.hive.workspaceId)!;
    expect(server.busyCells).toBe(1);
    expect(server.cpuPercent).toBeGreaterThan(0);
    expect(sampleOf(onlyA, a).bySource.agent!.cpuPercent).toBe(server.cpuPercent);
    expect(sampleOf(onlyA, b).bySource.agent!.cpuPercent).toBe(0);
    expect(sampleOf(onlyA, a).cpuPercent).toBeGreaterThanOrEqual(server.cpuPercent);

    world.model.script(
      { text: ["a ", "b ", "c."], chunkDelayMs: 300 },
      { text: ["x ", "y ", "z."], chunkDelayMs: 300 },
    );
    await new Promise((r) => setTimeout(r, 200));
    sampler().sample();
    const seen = { [a]: world.events(a).length, [b]: world.events(b).length };
    await Promise.all([
      world.hive.api("POST", `/api/cells/${a}/agent/messages`, { text: "Letters" }),
      world.hive.api("POST", `/api/cells/${b}/agent/messages`, { text: "More letters" }),
    ]);
    // Each cell's run streamed its answer (so each was busy), and both ended, before the sample.
    for (const id of [a, b]) {
      await world.waitForEvent(id, (e) => e.type === "delta" && world.events(id).indexOf(e) >= seen[id]!);
    }
    await until(() => status(a) === "idle" && status(b) === "idle", "both runs to end", 60_000);
    const both = sampler().sample();
    const shared = sampler().agentServer(world.hive.workspaceId)!;
    expect(shared.busyCells).toBe(2);
    const half = sampleOf(both, a).bySource.agent!.cpuPercent;
    expect(sampleOf(both, b).bySource.agent!.cpuPercent).toBe(half);
    // Each figure is rounded to a tenth.
    expect(Math.abs(half * 2 - shared.cpuPercent)).toBeLessThan(0.2);
  }, 120_000);

  it("processes the agent runs in a worktree count for that cell, not for the server", async () => {
    const cell = world.hive.hive.cells.get(a);
    sampler().sample();
    const serverBefore = sampler().agentServer(world.hive.workspaceId)!.processes;
    world.model.script(
      {
        toolCalls: [
          {
            name: "bash",
            args: { command: "sleep 4", description: "Wait a while" },
          },
        ],
      },
      { text: ["Slept."] },
    );
    await world.hive.api("POST", `/api/cells/${a}/agent/messages`, { text: "Sleep" });
    const asked = await world.waitForEvent(a, (e) => e.type === "waiting");
    const id = asked.type === "waiting" ? asked.item.id : "";
    await world.hive.api("POST", `/api/inbox/${id}`, { reply: "once" });
    let seen: ResourceSample | undefined;
    await until(() => {
      seen = sampleOf(sampler().sample(), a);
      return (seen?.bySource.worktree?.processes ?? 0) > 0;
    }, `the agent's command in ${cell.worktreePath}`);
    expect(seen!.processes).toBe(seen!.bySource.worktree!.processes);
    expect(sampler().agentServer(world.hive.workspaceId)!.processes).toBe(serverBefore);
    await until(() => status(a) === "idle", "the run to end", 60_000);
  }, 120_000);
});
