import { rmSync } from "node:fs";
import type { AgentChannelEvent } from "../../shared/agents.ts";
import type { Cell } from "../../shared/records.ts";
import { MODEL_ID, type ModelServer, PROVIDER_ID, startModelServer } from "../fixtures/model-server.ts";
import { opencodeXdgEnv } from "../fixtures/opencode-env.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

/**
 * A real Hive with a real `opencode serve` per workspace, talking to the scripted model server: the
 * repository's opencode.json (not committed: Hive hands it to OpenCode) names the scripted provider and
 * asks before running bash, and OpenCode keeps its state in this test's own XDG dirs.
 */
export interface AgentWorld {
  model: ModelServer;
  repo: TempRepo;
  hive: TestHive;
  xdg: string;
  /** Every agent event since the world started, per cell. */
  events(cellId: string): AgentChannelEvent[];
  waitForEvent(
    cellId: string,
    pred: (e: AgentChannelEvent) => boolean,
    timeoutMs?: number,
  ): Promise<AgentChannelEvent>;
  createCell(body: Record<string, unknown>): Promise<Cell>;
  /** Waits for the cell's agent session step to end and returns the cell. */
  waitForSession(cellId: string): Promise<Cell>;
  restartHive(): Promise<void>;
  close(): Promise<void>;
}

export async function startAgentWorld(
  opts: { config?: unknown; files?: Record<string, string>; opencode?: Record<string, unknown> } = {},
): Promise<AgentWorld> {
  const model = await startModelServer();
  const repo = makeRepo({ "README.md": "# agent test repo\n", ...opts.files });
  if (opts.config) {
    repo.writeConfig(opts.config);
    repo.commit("config");
  }
  repo.write(
    "opencode.json",
    JSON.stringify({
      provider: model.providerConfig(),
      model: `${PROVIDER_ID}/${MODEL_ID}`,
      permission: { bash: "ask" },
      ...opts.opencode,
    }),
  );
  const xdg = tempDir("hive-xdg-");
  const home = tempDir("hive-home-");
  const log = new Map<string, AgentChannelEvent[]>();
  const waiters = new Set<() => void>();
  let hive: TestHive;
  const boot = async () => {
    hive = await startHive(repo.path, { home, opencodeEnv: opencodeXdgEnv(xdg) });
    hive.hive.bus.on("agent.event", ({ cellId, event }) => {
      const list = log.get(cellId) ?? [];
      list.push(event);
      log.set(cellId, list);
      for (const w of waiters) w();
    });
  };
  await boot();
  const world: AgentWorld = {
    model,
    repo,
    get hive() {
      return hive;
    },
    xdg,
    events: (cellId) => log.get(cellId) ?? [],
    waitForEvent: (cellId, pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = (log.get(cellId) ?? []).find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching agent event for ${cellId}; got ${JSON.stringify(log.get(cellId)?.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    createCell: async (body) => {
      const r = await hive.api("POST", "/api/cells", {
        workspaceId: hive.workspaceId,
        templateId: "basic",
        ...body,
      });
      if (r.status !== 201) throw new Error(`create failed: ${JSON.stringify(r.body)}`);
      return r.body as Cell;
    },
    waitForSession: async (cellId) => {
      await hive.hive.cells.settled(cellId);
      const deadline = Date.now() + 90_000;
      for (;;) {
        const steps = hive.hive.timings.forCell(cellId).filter((t) => t.step === "ensure_agent_session");
        if (steps.some((s) => s.outcome !== "running")) return hive.hive.cells.get(cellId);
        if (Date.now() > deadline) throw new Error("ensure_agent_session did not finish");
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    restartHive: async () => {
      await hive.hive.close();
      await boot();
    },
    close: async () => {
      await hive.close();
      // The home is this world's own (kept across restartHive): its files go with it.
      rmSync(home, { recursive: true, force: true });
      rmSync(xdg, { recursive: true, force: true });
      await model.close();
      repo.cleanup();
    },
  };
  return world;
}
