import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import { HiveError } from "../shared/errors.ts";
import { Cells } from "./cells/cells.ts";
import { CellRepo } from "./db/cells.ts";
import { type Db, openDb } from "./db/connection.ts";
import { TimingRepo } from "./db/timings.ts";
import { WorkspaceRepo } from "./db/workspaces.ts";
import { EventBus } from "./events/bus.ts";
import { ensureHome, type HomeLayout, homeLayout } from "./home/home.ts";
import { cellRoutes } from "./transport/http/cells.ts";
import { errorHandler, notFound } from "./transport/http/errors.ts";
import { workspaceRoutes } from "./transport/http/workspaces.ts";
import { Workspaces } from "./workspaces/workspaces.ts";

export interface HiveOptions {
  /** Hive's home (state, logs, cell worktrees). */
  home: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Repositories to register at start. */
  workspaces?: string[];
  /** Off only on a loopback host. */
  auth?: boolean;
  allowOrigins?: string[];
}

/** Every module of a running Hive, composed; tests reach into it, main.ts starts and stops it. */
export interface Hive {
  options: HiveOptions;
  layout: HomeLayout;
  db: Db;
  bus: EventBus;
  workspaces: Workspaces;
  cells: Cells;
  timings: TimingRepo;
  app: Express;
  server: Server;
  /** The base URL once listening. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createHive(options: HiveOptions): Promise<Hive> {
  const layout = homeLayout(options.home);
  ensureHome(layout);
  const db = openDb(layout.dbFile);
  const bus = new EventBus();
  const timings = new TimingRepo(db);
  const cellRepo = new CellRepo(db);
  const workspaces = new Workspaces(new WorkspaceRepo(db), bus);
  const cells = new Cells({ cells: cellRepo, timings, workspaces, bus, layout });

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(express.json({ limit: "1mb" }));
  app.use(workspaceRoutes(workspaces, timings));
  app.use(cellRoutes(cells));
  app.use("/api", notFound);
  app.use(errorHandler);

  const server = createServer(app);
  const closers: (() => Promise<void> | void)[] = [];

  for (const path of options.workspaces ?? []) await workspaces.register(path);
  cells.recover();

  const hive: Hive = {
    options,
    layout,
    db,
    bus,
    workspaces,
    cells,
    timings,
    app,
    server,
    url: "",
    async listen() {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          reject(
            e.code === "EADDRINUSE"
              ? new HiveError("UNAVAILABLE", `Port ${options.port} on ${options.host} is already in use; pick another with --port.`)
              : e.code === "EADDRNOTAVAIL"
                ? new HiveError("UNAVAILABLE", `${options.host} is not an address of this machine; pick another with --host.`)
                : e,
          );
        };
        server.once("error", onError);
        server.listen(options.port, options.host, () => {
          server.off("error", onError);
          resolve();
        });
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      hive.url = `http://${host}:${addr.port}`;
      return hive.url;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const close of closers.reverse()) await close();
      await cells.stop();
      await workspaces.close();
      db.close();
    },
  };
  return hive;
}
