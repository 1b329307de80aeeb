import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { CLOSE_CODES } from "../../shared/protocol.ts";
import type { Auth } from "./auth.ts";
import { refuseUpgrade } from "./auth.ts";
import type { Hub } from "./hub.ts";

/** Sockets that are closed as soon as they open (no session); it never holds one for longer. */
const refusals = new WebSocketServer({ noServer: true });
/** A close reason has at most 123 bytes. */
const UNAUTHORIZED_REASON = "Not signed in: open the link printed by hive (or run `hive token`)";

/**
 * The one socket: `/ws` upgrades pass the same Host, Origin and sign-in checks as HTTP, then join the hub.
 * `other` takes the upgrades it knows (the service proxy's WebSockets) before the rest get a 404.
 */
export function serveSocket(
  server: Server,
  auth: Auth,
  hub: Hub,
  other?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean,
): void {
  server.on("upgrade", (req, socket, head) => {
    if (other?.(req, socket, head)) return;
    if (new URL(req.url ?? "/", "http://hive.invalid").pathname !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const decision = auth.authorizeUpgrade(req);
    if (!decision.ok) {
      // A browser cannot read a refused upgrade's status, only 1006; a page of our own origin (Host
      // and Origin passed) that lacks a session is let in just to be closed with a code that says so.
      if (decision.status === 401) {
        refusals.handleUpgrade(req, socket, head, (ws) =>
          ws.close(CLOSE_CODES.unauthorized, UNAUTHORIZED_REASON),
        );
      } else refuseUpgrade(socket, decision);
      return;
    }
    hub.handleUpgrade(req, socket, head, { sessionId: decision.session.sessionId });
  });
}
