import { HiveError } from "../../../shared/errors.ts";
import { channelOf } from "../../../shared/protocol.ts";
import type { ServicesEvent } from "../../../shared/services.ts";
import type { TermSnapshot } from "../../../shared/terminals.ts";
import type { EventBus } from "../../events/bus.ts";
import { forTerminal, type ServiceLog } from "../../services/log.ts";
import type { Services } from "../../services/services.ts";
import type { Hub } from "../hub.ts";

/**
 * Binary frame ids of service logs start here, above any the terminals hand out, so one numeric id
 * space serves both kinds of screens on a socket.
 */
const LOG_NUMERIC_BASE = 0x8000_0000;
const LOG_COLS = 160;
const LOG_ROWS = 40;

/** The inverse of serviceLogChannelId. */
function parseLogId(id: string): { cellId: string; name: string } {
  const i = id.indexOf("_");
  if (i < 1)
    throw new HiveError("NOT_FOUND", `'${id}' does not name a service log (expected <cellId>_<service>).`);
  return { cellId: id.slice(0, i), name: id.slice(i + 1) };
}

/**
 * `services:<cellId>` (the services strip: a snapshot of every service, then one event per change) and
 * `svclog:<cellId>_<service>` (a service's output as a read-only terminal: the serialized screen in a
 * TermSnapshot, then binary term.data frames, exactly like a shell's `term:` channel).
 * Returns the function that stops forwarding bus events.
 */
export function registerServiceChannels(hub: Hub, services: Services, bus: EventBus): () => void {
  const numericIds = new WeakMap<ServiceLog, number>();
  let nextNumeric = LOG_NUMERIC_BASE;

  hub.registerProvider("services", { snapshot: (cellId) => ({ services: services.list(cellId) }) });

  hub.registerProvider("svclog", {
    resumable: false,
    bulk: true,
    async snapshot(id, sub) {
      const { cellId, name } = parseLogId(id);
      const state = services.get(cellId, name);
      const log = services.log(cellId, name);
      let numericId = numericIds.get(log);
      if (numericId === undefined) {
        numericId = nextNumeric++;
        numericIds.set(log, numericId);
      }
      const num = numericId;
      const encoder = new TextEncoder();
      const send = (text: string) =>
        sub.conn.sendTermData(num, encoder.encode(forTerminal(text)), false, sub.channel);
      const screen = await log.serialize();
      // Listening from the same tick as the serialized screen: output after it is held until it is sent.
      let pending: string[] | undefined = [];
      const off = log.onOutput((text) => (pending ? pending.push(text) : send(text)));
      sub.onSnapshotSent(() => {
        for (const text of pending ?? []) send(text);
        pending = undefined;
      });
      sub.onEnd(off);
      const snapshot: TermSnapshot = {
        termId: id,
        cellId,
        name,
        numericId: num,
        cols: LOG_COLS,
        rows: LOG_ROWS,
        exitCode: null,
        signal: null,
        createdAt: state.updatedAt,
        screen,
      };
      return snapshot;
    },
  });

  const publish = (cellId: string, event: ServicesEvent) => hub.publish(channelOf("services", cellId), event);
  const offs = [
    bus.on("service.updated", ({ service }) => publish(service.cellId, { type: "service.updated", service })),
    bus.on("service.removed", ({ cellId, name }) =>
      publish(cellId, { type: "service.removed", cellId, name }),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}
