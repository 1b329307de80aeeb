import type { Template } from "../../shared/config.ts";
import type { Cell } from "../../shared/records.ts";
import type { CellContributor, PlannedStep } from "../cells/plan.ts";
import type { Services } from "./services.ts";
import { DEFAULT_READY_TIMEOUT_MS, DEFAULT_STOP_TIMEOUT_MS, startOrder } from "./spec.ts";

/** The step's own timer is only a backstop: the service's ready timeout fails it first, with the output tail. */
const STEP_SLACK_MS = 15_000;

/** How services take part in a cell's life: one ensure step per service, a stop step, and the port env. */
export function servicesContributor(services: Services): CellContributor {
  const ensureSteps = (_cell: Cell, template: Template): PlannedStep[] =>
    startOrder(template.services).map((name) => {
      const svc = template.services[name]!;
      return {
        name: `ensure_services:${name}`,
        label: `Start ${name}`,
        timeoutMs:
          (svc.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) +
          (svc.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS) +
          STEP_SLACK_MS,
        run: async ({ cell, template, signal, progress }) => {
          await services.prepare(cell, template);
          return services.ensure(cell.id, name, signal, progress);
        },
      };
    });
  return {
    // Ports before any step: setup commands, terminals and the agent's first prompt see $HIVE_PORT_*.
    prepare: (cell, template) => services.allocatePorts(cell.id, template),
    readySteps: ensureSteps,
    restoreSteps: ensureSteps,
    teardownSteps: (cell, workflow) => [
      {
        name: "stop_services",
        label: "Stop services",
        run: () => services.teardown(cell.id, workflow),
      },
    ],
    env: (cell) => services.env(cell.id),
  };
}
