import { HiveError } from "../../../shared/errors.ts";
import { channelOf } from "../../../shared/protocol.ts";
import type { Agents } from "../../agents/agents.ts";
import type { EventBus } from "../../events/bus.ts";
import type { Hub } from "../hub.ts";

/**
 * The agent channels:
 * - `agent:<cellId>`: an AgentSnapshot (transcript from OpenCode's store, status, mode, model, what
 *   is waiting, the latest Hive tool calls), then AgentChannelEvents (`delta` streamed text, `part`,
 *   `message`, `status`, `waiting`/`answered`, `mode`, `activity` for a Hive tool call, `reset` with a
 *   fresh snapshot after OpenCode restarted);
 * - `inbox:all`: `{items}` (every agent waiting for a person, across cells), then `added`/`removed`.
 */
export function registerAgentChannels(hub: Hub, agents: Agents, bus: EventBus): () => void {
  hub.registerProvider("agent", { snapshot: (cellId) => agents.snapshot(cellId) });
  hub.registerProvider("inbox", {
    snapshot: (id) => {
      if (id !== "all")
        throw new HiveError("NOT_FOUND", `The inbox channel is 'inbox:all', not 'inbox:${id}'.`);
      return { items: agents.waiting() };
    },
  });
  const offs = [
    bus.on("agent.event", ({ cellId, event }) =>
      hub.publish(channelOf("agent", cellId), event, { coalesce: event.type === "delta" }),
    ),
    bus.on("agent.inbox", ({ event }) => hub.publish(channelOf("inbox", "all"), event)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
