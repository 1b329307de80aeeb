import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentSnapshot } from "../../shared/agents.ts";
import { requestText } from "../fixtures/model-server.ts";
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
          prompts: ["prompts/role.md"],
        },
      ],
    },
    files: { "prompts/role.md": "You work on cell {{cell_name}} on branch {{branch}} in {{worktree}}." },
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe("an agent in every cell", () => {
  it("creates a session, sends the assembled prompt and streams the reply", async () => {
    world.model.script({ text: ["Hello ", "from ", "the ", "agent."] });
    const cell = await world.createCell({ name: "Greeter", description: "Say hello to the team." });
    const ready = await world.hive.waitForCell(cell.id, (c) => c?.status === "ready");
    expect(ready?.status).toBe("ready");
    const after = await world.waitForSession(cell.id);
    expect(after.opencodeSessionId).toMatch(/^ses_/);

    await world.waitForEvent(
      cell.id,
      (e) => e.type === "status" && e.status === "idle" && world.model.requests.some((r) => !r.auxiliary),
    );
    const deltas = await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "agent.");
    expect(deltas).toBeTruthy();
    const streamed = world
      .events(cell.id)
      .filter((e) => e.type === "delta")
      .map((e) => (e.type === "delta" ? e.delta : ""))
      .join("");
    expect(streamed).toBe("Hello from the agent.");

    const sent = requestText(world.model.requests.find((r) => !r.auxiliary)!);
    expect(sent).toContain("Say hello to the team.");
    expect(sent).toContain(
      `You work on cell Greeter on branch ${after.branchName} in ${after.worktreePath}.`,
    );
    expect(sent).toContain(`Base commit: ${after.baseCommit}`);

    const prompt = await world.hive.api("GET", `/api/cells/${cell.id}/agent/prompt`);
    expect(prompt.status).toBe(200);
    expect(prompt.body.prompt).toContain("Say hello to the team.");
    expect(prompt.body.fragments).toEqual(["prompts/role.md"]);

    const transcript = await world.hive.api("GET", `/api/cells/${cell.id}/agent/messages`);
    const texts = transcript.body.flatMap((m: { parts: { type: string; text?: string }[] }) =>
      m.parts.filter((p) => p.type === "text").map((p) => p.text),
    );
    expect(texts).toContain("Hello from the agent.");
  }, 120_000);

  it("a scripted write tool call makes the real agent create a file in the worktree", async () => {
    const cell = await world.createCell({ name: "Writer" });
    const c = await world.waitForSession(cell.id);
    const file = join(c.worktreePath!, "notes", "hello.txt");
    world.model.script(
      {
        text: ["Writing the file."],
        toolCalls: [{ name: "write", args: { filePath: file, content: "hi from the agent\n" } }],
      },
      { text: ["Wrote it."] },
    );
    const r = await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, {
      text: "Write notes/hello.txt",
    });
    expect(r.status).toBe(202);
    const tool = await world.waitForEvent(
      cell.id,
      (e) => e.type === "part" && e.part.type === "tool" && e.part.state?.status === "completed",
    );
    expect(tool.type === "part" && tool.part.tool).toBe("write");
    expect(readFileSync(file, "utf8")).toBe("hi from the agent\n");
    expect(existsSync(join(world.repo.path, "notes", "hello.txt"))).toBe(false);
    await world.waitForEvent(cell.id, (e) => e.type === "delta" && e.delta === "Wrote it.");
  }, 120_000);

  it("streams the reply and the inbox over the one socket", async () => {
    const cell = await world.createCell({ name: "Socket" });
    await world.waitForSession(cell.id);
    const sock = await TestSocket.connect(world.hive.url, world.hive.headers);
    try {
      const snap = await sock.subscribe(`agent:${cell.id}`);
      expect(snap.type).toBe("snapshot");
      const state = (snap as { state: AgentSnapshot }).state;
      expect(state).toMatchObject({
        cellId: cell.id,
        status: "idle",
        mode: "build",
        messages: [],
        waiting: [],
      });
      const inbox = await sock.subscribe("inbox:all");
      expect(inbox).toMatchObject({ type: "snapshot", state: { items: [] } });

      world.model.script(
        { text: ["Over ", "the ", "socket."] },
        { toolCalls: [{ name: "bash", args: { command: "true", description: "Nothing" } }] },
        { text: ["Done."] },
      );
      const streamed = sock.next(
        (f) =>
          f.type === "event" &&
          f.channel === `agent:${cell.id}` &&
          (f.event as { delta?: string }).delta === "socket.",
      );
      await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Talk to me" });
      await streamed;
      const waiting = sock.next((f) => f.type === "event" && f.channel === "inbox:all");
      await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Now run something" });
      const added = await waiting;
      expect(added).toMatchObject({
        type: "event",
        event: { type: "added", item: { cellId: cell.id, kind: "permission" } },
      });
      const removed = sock.next(
        (f) =>
          f.type === "event" && f.channel === "inbox:all" && (f.event as { type: string }).type === "removed",
      );
      const id = (added as { event: { item: { id: string } } }).event.item.id;
      expect((await world.hive.api("POST", `/api/inbox/${id}`, { reply: "reject" })).status).toBe(202);
      await removed;
      const unknown = await sock.subscribe("inbox:other");
      expect(unknown).toMatchObject({ type: "error" });
    } finally {
      sock.close();
    }
  }, 120_000);
});
