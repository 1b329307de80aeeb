import { Router } from "./router.ts";
import { HiveSocket } from "./socket.ts";
import { CellsStore } from "./stores/cells.ts";
import { SessionStore } from "./stores/session.ts";
import { TimingsStore } from "./stores/timings.ts";
import { WorkspacesStore } from "./stores/workspaces.ts";

/**
 * The tab's one socket and its app-wide stores, made once. A feature's own store (agent chat, diff,
 * services) takes `hive.socket` from here; components get stores and data as properties.
 */
function createContext() {
  const socket = new HiveSocket();
  return {
    socket,
    router: new Router(),
    session: new SessionStore(socket),
    workspaces: new WorkspacesStore(socket),
    cells: new CellsStore(socket),
    timings: new TimingsStore(),
  };
}

export type HiveContext = ReturnType<typeof createContext>;
export const hive: HiveContext = createContext();
