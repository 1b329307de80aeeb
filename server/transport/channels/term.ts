import { channelOf } from "../../../shared/protocol.ts";
import type { TermEvent } from "../../../shared/terminals.ts";
import type { EventBus } from "../../events/bus.ts";
import type { Subscriber } from "../../terminals/term-flow.ts";
import type { Terminals } from "../../terminals/terminals.ts";
import type { Hub } from "../hub.ts";
import type { Connection } from "../ws-connection.ts";

/**
 * `term:<termId>` channels and the term.* commands: a subscriber gets the serialized screen (with the
 * numeric id of the binary frames that follow), then raw output and TermEvents. Returns the function
 * that stops forwarding bus events.
 */
/** Terminal views (`term.view`) remembered per connection, at most. */
const MAX_VIEWS = 1000;

export function registerTermChannel(hub: Hub, terminals: Terminals, bus: EventBus): () => void {
  const attached = new Map<Connection, Map<string, Subscriber>>();
  /** What each connection said of its terminals' views (`term.view`), kept for the next attach. */
  const views = new Map<Connection, Map<string, number>>();
  /**
   * The connection (window) that last sized each terminal. When it stops showing the terminal, the
   * windows still showing it are told (`size.free`), and one of them takes the size, as tmux does when
   * the client it was sized for detaches.
   */
  const sizers = new Map<string, Connection>();

  hub.registerProvider("term", {
    resumable: false,
    bulk: true,
    async snapshot(termId, sub) {
      const { snapshot, at, subscriber } = await terminals.attach(termId, {
        data: (num, bytes, interactive) => sub.conn.sendTermData(num, bytes, interactive, sub.channel),
        resync: (snap) => sub.resnapshot(snap),
      });
      const mine = attached.get(sub.conn) ?? new Map<string, Subscriber>();
      attached.set(sub.conn, mine);
      mine.set(termId, subscriber);
      const keepLines = views.get(sub.conn)?.get(termId);
      if (keepLines !== undefined) subscriber.setKeepLines(keepLines);
      sub.onSnapshotSent(() => subscriber.start(at));
      sub.onEnd(() => {
        subscriber.detach();
        if (sizers.get(termId) === sub.conn) {
          sizers.delete(termId);
          publish(termId, { type: "size.free" });
        }
        if (mine.get(termId) === subscriber) mine.delete(termId);
        if (mine.size === 0) attached.delete(sub.conn);
      });
      return snapshot;
    },
  });

  hub.registerHandler("term.open", async (f, conn) => {
    const info = await terminals.open({
      cellId: f.cellId,
      cols: f.cols,
      rows: f.rows,
      ...(f.name ? { name: f.name } : {}),
      ...(f.kind ? { kind: f.kind } : {}),
    });
    conn.send({
      type: "term.opened",
      termId: info.termId,
      cellId: info.cellId,
      ...(f.ref ? { ref: f.ref } : {}),
    });
  });
  hub.registerHandler("term.input", (f, conn) => {
    terminals.input(f.termId, f.data);
    // The echo goes first: the window's other terminals that flood wait a moment.
    for (const [termId, subscriber] of attached.get(conn) ?? [])
      if (termId !== f.termId) subscriber.yieldToTyping();
  });
  hub.registerHandler("term.resize", (f, conn) => {
    terminals.resize(f.termId, f.cols, f.rows);
    sizers.set(f.termId, conn);
  });
  hub.registerHandler("term.close", async (f, conn) => {
    await terminals.close(f.termId, { force: f.force === true });
    if (f.ref) conn.send({ type: "term.closed", termId: f.termId, ref: f.ref });
  });
  hub.registerHandler("term.rename", (f) => {
    terminals.rename(f.termId, f.name);
  });
  hub.registerHandler("term.ack", (f, conn) => attached.get(conn)?.get(f.termId)?.ack(f.bytes));
  hub.registerHandler("term.view", (f, conn) => {
    const mine = views.get(conn) ?? new Map<string, number>();
    if (!views.has(conn)) {
      views.set(conn, mine);
      conn.ws.once("close", () => views.delete(conn));
    }
    // Bounded, whatever a client sends: the oldest view goes first.
    if (!mine.has(f.termId) && mine.size >= MAX_VIEWS) mine.delete(mine.keys().next().value!);
    mine.set(f.termId, f.keepLines);
    attached.get(conn)?.get(f.termId)?.setKeepLines(f.keepLines);
  });

  const publish = (termId: string, event: TermEvent) => hub.publish(channelOf("term", termId), event);
  const offs = [
    bus.on("terminal.updated", ({ terminal: t, change }) => {
      // A new name travels with the cell's terminal list (`cell:` channel); the screen is unchanged.
      if (change === "renamed") return;
      publish(
        t.termId,
        change === "exit"
          ? { type: "exit", exitCode: t.exitCode, signal: t.signal }
          : { type: "resized", cols: t.cols, rows: t.rows },
      );
    }),
    bus.on("terminal.closed", ({ terminal }) => {
      sizers.delete(terminal.termId);
      publish(terminal.termId, { type: "closed" });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
