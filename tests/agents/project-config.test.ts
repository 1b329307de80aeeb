import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;

beforeAll(async () => {
  world = await startAgentWorld();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const status = (dir: string) => execFileSync("git", ["status", "--porcelain"], { cwd: dir }).toString();

describe("a committed opencode.json", () => {
  it("is OpenCode's config for the cell's agent and is left as it is, in the checkout and in the worktree", async () => {
    // OpenCode, left to find project configs itself, wrote a `$schema` line into each copy it read.
    world.repo.commit("opencode config");
    expect(status(world.repo.path)).toBe("");
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
    expect(status(worktree)).toBe("");
    expect(status(world.repo.path)).toBe("");
  }, 180_000);
});
