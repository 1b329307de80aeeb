import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Workspace } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

/** A workspace removed from Hive takes its OpenCode (hundreds of MB) and its agent tools' credentials along. */
describe("removing a workspace whose OpenCode runs", () => {
  let world: AgentWorld;
  let other: TempRepo;

  beforeAll(async () => {
    world = await startAgentWorld();
    other = makeRepo();
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    other?.cleanup();
  });

  const alive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it("stops that OpenCode, and no other", async () => {
    const api = world.hive.api;
    const added = (await api<Workspace>("POST", "/api/workspaces", { path: other.path })).body;
    // Listing its models starts the workspace's OpenCode, as the new-cell form does.
    expect((await api("GET", `/api/workspaces/${added.id}/agent/providers`)).status).toBe(200);
    expect((await api("GET", `/api/workspaces/${world.hive.workspaceId}/agent/providers`)).status).toBe(200);
    const pidOf = (id: string) =>
      world.hive.hive.agents.serverProcesses().find((p) => p.workspaceId === id)?.pid;
    const pid = pidOf(added.id)!;
    const kept = pidOf(world.hive.workspaceId)!;
    expect(alive(pid) && alive(kept)).toBe(true);
    const tools = join(world.hive.hive.layout.runDir, "agent-tools", added.slug);
    expect(existsSync(join(tools, "hive-tools.json"))).toBe(true);

    expect((await api("DELETE", `/api/workspaces/${added.id}`)).status).toBe(204);
    await expect.poll(() => alive(pid), { timeout: 20_000 }).toBe(false);
    await expect.poll(() => existsSync(tools)).toBe(false);
    expect(pidOf(added.id)).toBeUndefined();
    expect(alive(kept)).toBe(true);
    expect((await api("GET", `/api/workspaces/${world.hive.workspaceId}/agent/providers`)).status).toBe(200);
  }, 120_000);
});
