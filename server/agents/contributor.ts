import type { CellContributor } from "../cells/plan.ts";
import type { Agents } from "./agents.ts";

/** OpenCode's own start-up and session creation take seconds: they must never hold back `ready`. */
const SESSION_STEP_TIMEOUT_MS = 90_000;

/** How the agent takes part in a cell's workflows: a background session step and a teardown step. */
export function agentContributor(agents: Agents): CellContributor {
  return {
    backgroundSteps: (_cell, template) => [
      {
        name: "ensure_agent_session",
        label: "Start the agent",
        timeoutMs: SESSION_STEP_TIMEOUT_MS,
        run: ({ cell }) => agents.ensureSession(cell.id, template),
      },
    ],
    teardownSteps: (_cell, workflow) => [
      {
        name: "stop_agent",
        label: "Stop the agent",
        run: ({ cell }) => agents.teardown(cell.id, workflow),
      },
    ],
  };
}
