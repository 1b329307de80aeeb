import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;
let cell: Cell;

beforeAll(async () => {
  world = await startAgentWorld();
  const created = await world.createCell({ name: "Asker" });
  cell = await world.waitForSession(created.id);
}, 90_000);

afterAll(async () => {
  await world?.close();
});

const send = (text: string) => world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text });
const status = () => world.hive.hive.cells.get(cell.id).agentStatus;

describe("waiting for you, stopping, and coming back", () => {
  it("a permission request puts the cell in the inbox and answering it continues the run", async () => {
    world.model.script(
      {
        toolCalls: [{ name: "bash", args: { command: "echo ran > ran.txt", description: "Write ran.txt" } }],
      },
      { text: ["Ran it."] },
    );
    expect((await send("Run the script")).status).toBe(202);
    const waiting = await world.waitForEvent(cell.id, (e) => e.type === "waiting");
    expect(status()).toBe("waiting");
    const inbox = await world.hive.api("GET", "/api/inbox");
    expect(inbox.body.items).toHaveLength(1);
    const item = inbox.body.items[0];
    expect(item).toMatchObject({ cellId: cell.id, cellName: "Asker", kind: "permission", detail: "bash" });
    expect(item.title).toContain("echo ran > ran.txt");
    expect(waiting.type === "waiting" && waiting.item.id).toBe(item.id);
    expect(existsSync(join(cell.worktreePath!, "ran.txt"))).toBe(false);

    const bad = await world.hive.api("POST", `/api/inbox/${item.id}`, { answers: [["x"]], reply: "once" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("exactly one of 'reply' or 'answers'");

    const answered = await world.hive.api("POST", `/api/inbox/${item.id}`, { reply: "once" });
    expect(answered.status).toBe(202);
    await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "Ran it.");
    expect(existsSync(join(cell.worktreePath!, "ran.txt"))).toBe(true);
    expect((await world.hive.api("GET", "/api/inbox")).body.items).toEqual([]);
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "idle");
  }, 90_000);

  it("abort stops a long run", async () => {
    const slow = Array.from({ length: 400 }, (_, i) => `word${i} `);
    world.model.script({ text: slow, chunkDelayMs: 50 });
    const before = world.events(cell.id).length;
    await send("Talk for a long time");
    await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "word3 ");
    expect(status()).toBe("working");
    const r = await world.hive.api("POST", `/api/cells/${cell.id}/agent/abort`);
    expect(r.status).toBe(202);
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "idle", 30_000);
    const deltas = world
      .events(cell.id)
      .slice(before)
      .filter((e) => e.type === "delta");
    expect(deltas.length).toBeLessThan(400);
    expect(deltas.some((e) => e.type === "delta" && e.delta === "word399 ")).toBe(false);
  }, 90_000);

  it("kill OpenCode mid-session: it is restarted and the session and transcript come back", async () => {
    const ws = world.hive.hive.agents.serverFor(cell.workspaceId);
    const pid = ws.server.pid!;
    process.kill(-pid, "SIGKILL");
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "error", 15_000);
    expect(world.hive.hive.cells.get(cell.id).agentStatusDetail).toContain("restarting");
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "idle", 60_000);
    expect(ws.server.pid).not.toBe(pid);
    const transcript = await world.hive.api("GET", `/api/cells/${cell.id}/agent/messages`);
    expect(transcript.status).toBe(200);
    const texts = transcript.body.flatMap((m: { parts: { text?: string }[] }) =>
      m.parts.map((p) => p.text ?? ""),
    );
    expect(texts).toContain("Ran it.");
    world.model.script({ text: ["Back again."] });
    await send("Are you there?");
    await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "Back again.");
  }, 120_000);

  it("a hung OpenCode is killed after several failed health checks in a row, then restarted", async () => {
    const ws = world.hive.hive.agents.serverFor(cell.workspaceId);
    const pid = ws.server.pid!;
    // Stopped, not dead: it accepts connections but never answers, as a wedged server would.
    process.kill(-pid, "SIGSTOP");
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "error", 60_000);
    await world.hive.waitForCell(cell.id, (c) => c?.agentStatus === "idle", 60_000);
    expect(ws.server.pid).not.toBe(pid);
    const log = readdirSync(world.hive.hive.layout.logsDir)
      .filter((f) => f.startsWith("opencode"))
      .map((f) => readFileSync(join(world.hive.hive.layout.logsDir, f), "utf8"))
      .join("");
    expect(log).toMatch(/3 health checks failed in a row, killing/);
  }, 150_000);

  it("restart Hive: the same session is found again with its whole transcript", async () => {
    const sessionId = world.hive.hive.cells.get(cell.id).opencodeSessionId;
    await world.restartHive();
    const again = world.hive.hive.cells.get(cell.id);
    expect(again.opencodeSessionId).toBe(sessionId);
    const snapshot = await world.hive.api("GET", `/api/cells/${cell.id}/agent`);
    expect(snapshot.status).toBe(200);
    expect(snapshot.body.sessionId).toBe(sessionId);
    const texts = snapshot.body.messages.flatMap((m: { parts: { text?: string }[] }) =>
      m.parts.map((p) => p.text ?? ""),
    );
    expect(texts).toEqual(expect.arrayContaining(["Run the script", "Ran it.", "Back again."]));
    const log = await world.hive.api("GET", `/api/cells/${cell.id}/agent/log`);
    expect(log.body.map((c: { kind: string }) => c.kind)).toEqual(
      expect.arrayContaining(["user", "permission", "part.tool"]),
    );
  }, 120_000);
});
