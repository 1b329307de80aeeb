import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanProcesses } from "../../server/services/proc.ts";
import { until } from "../services/harness.ts";
import { TestSocket } from "../socket/ws-client.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

let world: AgentWorld;

beforeAll(async () => {
  world = await startAgentWorld();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

/** Live processes whose command line contains every one of these words (from /proc). */
function processesWith(...words: string[]): number[] {
  return scanProcesses()
    .filter((p) => p.state !== "Z")
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0");
        return words.every((w) => argv.includes(w));
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

describe("the OpenCode TUI terminal", () => {
  it("attaches OpenCode's own TUI to the cell's session, with Hive's password, and ends when closed", async () => {
    world.model.script({ text: ["The scripted model says hello to the TUI."] });
    const cell = await world.createCell({ name: "Tui", description: "Greet whoever attaches." });
    const withSession = await world.waitForSession(cell.id);
    const sessionId = withSession.opencodeSessionId!;
    await world.waitForEvent(
      cell.id,
      (e) => e.type === "status" && e.status === "idle" && world.model.requests.some((r) => !r.auxiliary),
    );

    const sock = await TestSocket.connect(world.hive.url, world.hive.headers);
    try {
      const opened = await sock.request({
        type: "term.open",
        cellId: cell.id,
        kind: "opencode-tui",
        cols: 120,
        rows: 40,
      });
      expect(opened.type).toBe("term.opened");
      const termId = opened.type === "term.opened" ? opened.termId : "";
      const info = world.hive.hive.terminals.get(termId);
      expect(info.name).toBe("OpenCode TUI");

      const view = await sock.attach(termId);
      // The transcript can only be drawn by a TUI that authenticated to the password-protected server.
      await view.waitFor("The scripted model says hello to the TUI.", 90_000);
      await view.waitFor("Greet whoever attaches.");
      const pids = processesWith("attach", sessionId);
      expect(pids.length).toBeGreaterThan(0);
      // The password travels by environment, never in argv where other users could read it.
      expect(processesWith("--password")).toEqual([]);

      // A restart of OpenCode (here: a changed opencode.json) keeps its port, and the TUI carries on.
      const server = world.hive.hive.agents.serverFor(world.hive.workspaceId).server;
      const pid = server.pid;
      const config = JSON.parse(readFileSync(join(world.repo.path, "opencode.json"), "utf8"));
      config.provider.scripted.models["tui-model"] = { name: "Added while the TUI is open" };
      world.repo.write("opencode.json", JSON.stringify(config));
      await until(
        () => server.state.kind === "running" && server.pid !== undefined && server.pid !== pid,
        "OpenCode to restart",
        60_000,
      );
      await until(() => world.hive.hive.cells.get(cell.id).agentStatus === "idle", "the agent to be back");
      world.model.script({ text: ["An answer after the restart."] });
      await world.hive.api("POST", `/api/cells/${cell.id}/agent/messages`, { text: "Still attached?" });
      // A TUI attached afresh takes a while to start on a loaded machine.
      await view.waitFor("An answer after the restart.", 120_000);

      sock.send({ type: "term.close", termId });
      await sock.next((f) => f.type === "event" && f.channel === `term:${termId}`);
      await until(() => processesWith("attach", sessionId).length === 0, "the TUI to exit");
      expect(world.hive.hive.terminals.list(cell.id).map((t) => t.termId)).not.toContain(termId);
    } finally {
      sock.close();
    }
  }, 300_000);

  it("says why when the cell's agent has no session to attach to", async () => {
    const sock = await TestSocket.connect(world.hive.url, world.hive.headers);
    try {
      const answer = await sock.request({
        type: "term.open",
        cellId: "no-such-cell",
        kind: "opencode-tui",
        cols: 80,
        rows: 24,
      });
      expect(answer.type).toBe("error");
      expect(answer.type === "error" && answer.message).toMatch(/no-such-cell/);
    } finally {
      sock.close();
    }
  }, 30_000);
});
