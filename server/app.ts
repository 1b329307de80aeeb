import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import { HiveError } from "../shared/errors.ts";
import { Agents } from "./agents/agents.ts";
import { agentContributor } from "./agents/contributor.ts";
import { HiveTools } from "./agents/hive-tools/hive-tools.ts";
import { Cells } from "./cells/cells.ts";
import { setupLogPath } from "./cells/provision.ts";
import { CellRepo } from "./db/cells.ts";
import { type Db, openDb } from "./db/connection.ts";
import { TimingRepo } from "./db/timings.ts";
import { WorkspaceRepo } from "./db/workspaces.ts";
import { diffsContributor } from "./diffs/contributor.ts";
import { DiffService } from "./diffs/diffs.ts";
import { BranchKeeper } from "./diffs/kept-branches.ts";
import { ReviewStore } from "./diffs/review-store.ts";
import { EventBus } from "./events/bus.ts";
import { ensureHome, type HomeLayout, homeLayout } from "./home/home.ts";
import { servicesContributor } from "./services/contributor.ts";
import { ServiceProxy } from "./services/proxy.ts";
import { Services } from "./services/services.ts";
import { cellTerminalLaunch, terminalsContributor } from "./terminals/contributor.ts";
import { Terminals, type TerminalsOptions } from "./terminals/terminals.ts";
import { TerminalTitles } from "./terminals/titles.ts";
import { Auth, assertAuthModeAllowed } from "./transport/auth.ts";
import { registerAgentChannels } from "./transport/channels/agents.ts";
import { registerCellChannels } from "./transport/channels/cells.ts";
import { registerFilesChannel } from "./transport/channels/files.ts";
import { registerServiceChannels } from "./transport/channels/services.ts";
import { registerTermChannel } from "./transport/channels/term.ts";
import { agentToolRoutes } from "./transport/http/agent-tools.ts";
import { agentRoutes } from "./transport/http/agents.ts";
import { authRoutes } from "./transport/http/auth.ts";
import { cellRoutes } from "./transport/http/cells.ts";
import { diffRoutes } from "./transport/http/diffs.ts";
import { errorHandler, notFound } from "./transport/http/errors.ts";
import { previewHostRoutes } from "./transport/http/preview-host.ts";
import { handleProxyUpgrade, proxyRoutes, serviceRoutes } from "./transport/http/services.ts";
import { workspaceRoutes } from "./transport/http/workspaces.ts";
import { Hub } from "./transport/hub.ts";
import { previewCookieName } from "./transport/preview-access.ts";
import { serveSocket } from "./transport/socket-route.ts";
import { staticRoutes } from "./transport/static.ts";
import { FilesChannel } from "./watch/files-channel.ts";
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
  /** false: cells get no agent session (tests of other rooms). */
  agents?: boolean;
  allowOrigins?: string[];
  /** Believe X-Forwarded-For/-Proto from a reverse proxy in front. */
  trustProxy?: boolean;
  /** Extra environment for the OpenCode servers Hive starts (tests give each its own XDG dirs). */
  opencodeEnv?: NodeJS.ProcessEnv;
  /** Shell and scrollback of cell terminals (default: the user's login shell, 10,000 lines). */
  terminals?: Pick<TerminalsOptions, "shell" | "shellArgs" | "scrollbackLines">;
}

/** Every module of a running Hive, composed; tests reach into it, main.ts starts and stops it. */
export interface Hive {
  options: HiveOptions;
  layout: HomeLayout;
  db: Db;
  bus: EventBus;
  auth: Auth;
  workspaces: Workspaces;
  cells: Cells;
  agents: Agents;
  diffs: DiffService;
  files: FilesChannel;
  terminals: Terminals;
  hub: Hub;
  services: Services;
  timings: TimingRepo;
  app: Express;
  server: Server;
  /** The base URL once listening. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createHive(options: HiveOptions): Promise<Hive> {
  assertAuthModeAllowed(options.host, options.auth === false);
  const layout = homeLayout(options.home);
  ensureHome(layout);
  const db = openDb(layout.dbFile);
  const bus = new EventBus();
  const auth = new Auth({
    layout,
    db,
    bus,
    host: options.host,
    noAuth: options.auth === false,
    allowOrigins: options.allowOrigins,
    trustProxy: options.trustProxy,
  });
  const timings = new TimingRepo(db);
  const cellRepo = new CellRepo(db);
  const workspaces = new Workspaces(new WorkspaceRepo(db), bus);
  const cells = new Cells({ cells: cellRepo, timings, workspaces, bus, layout });
  const services = new Services({
    db,
    bus,
    logsDir: layout.logsDir,
    host: options.host,
    cells: cellRepo,
    // Called only once sampling starts, after the agents exist.
    agentUsage: {
      servers: () => agents.serverProcesses(),
      busyCells: (workspaceId, sinceMs) => agents.busyCells(workspaceId, sinceMs),
    },
  });
  cells.addContributor(servicesContributor(services));
  const serviceProxy = new ServiceProxy(services, [auth.cookieName, previewCookieName(auth)]);
  const agents = new Agents({
    db,
    cells: cellRepo,
    workspaces,
    bus,
    layout,
    cellEnv: (id) => cells.env(id),
    opencodeEnv: options.opencodeEnv,
    toolsConfigDir: (workspace): string => agentTools.configDir(workspace),
  });
  const agentTools = new HiveTools({
    runDir: layout.runDir,
    cells: cellRepo,
    services,
    setupLogFile: (cellId) => setupLogPath(layout.logsDir, cellId),
    activity: agents.activity,
    bus,
    sessionCell: (sessionId) => agents.cellOfSession(sessionId),
  });
  // Tests of other rooms leave the agent out: each OpenCode server costs seconds of CPU and ~400 MB.
  if (options.agents !== false) cells.addContributor(agentContributor(agents));
  const diffs = new DiffService({ cells: cellRepo, bus, store: new ReviewStore(db), agents });
  const files = new FilesChannel({ diffs, bus });
  const kept = new BranchKeeper({
    db,
    cells: cellRepo,
    bus,
    workspace: (id) => workspaces.get(id),
    archive: (id) => cells.archive(id),
  });
  const terminals = new Terminals({
    layout,
    bus,
    launch: (cellId) => cellTerminalLaunch(cells, cellId),
    commands: { "opencode-tui": (cellId) => agents.tuiCommand(cellId) },
    titles: new TerminalTitles(db),
    ...options.terminals,
  });
  cells.addContributor(terminalsContributor(terminals));
  // Last: its delete steps take the worktree's uncommitted work once services, agent and shells have stopped.
  cells.addContributor(diffsContributor(diffs, files, kept));
  const hub = new Hub();

  const app = express();
  app.disable("x-powered-by");
  // A service's own origin (<cell>--<service>.localhost) gets only that service, never what follows.
  app.use(previewHostRoutes(serviceProxy, auth));
  // First: host, origin and sign-in checks stand in front of every route below.
  // Ahead of the sign-in guard: OpenCode's calls to Hive's tools carry their own credential.
  app.use(agentToolRoutes(agentTools, auth));
  app.use(authRoutes(auth));
  app.set("trust proxy", false);
  // Before the body parser: proxied requests keep their bodies.
  app.use(proxyRoutes(serviceProxy, auth));
  app.use(express.json({ limit: "1mb" }));
  app.use(workspaceRoutes(workspaces, timings));
  app.use(cellRoutes(cells));
  app.use(agentRoutes(agents));
  app.use(diffRoutes(diffs, kept));
  app.use(serviceRoutes(services));
  app.use("/api", notFound);
  // The web app (public: it must load to show its sign-in page); after /api so it never shadows a route.
  app.use(staticRoutes());
  app.use(errorHandler);

  const server = createServer(app);
  const closers: (() => Promise<void> | void)[] = [() => files.close()];
  serveSocket(server, auth, hub, (req, socket, head) =>
    handleProxyUpgrade(serviceProxy, auth, req, socket, head),
  );
  closers.push(
    registerCellChannels(hub, { workspaces, cells, terminals }, bus),
    registerTermChannel(hub, terminals, bus),
    registerServiceChannels(hub, services, bus),
    registerAgentChannels(hub, agents, bus),
    registerFilesChannel(hub, files, bus),
    bus.on("auth.session.revoked", ({ sessionId }) => hub.disconnectSession(sessionId)),
    bus.on("workspace.removed", ({ workspace }) =>
      agents
        .forgetWorkspace(workspace.id)
        .catch((err) => console.warn(`hive: stopping the OpenCode of ${workspace.path}:`, err))
        .finally(() => agentTools.forget(workspace.id)),
    ),
    () => terminals.stop(),
  );
  // Shells that outlived a restart of this server are picked up again (the PTY host kept them).
  await terminals.start();

  for (const path of options.workspaces ?? []) await workspaces.register(path);
  cells.recover();
  services.activate();
  agents.recover();

  const hive: Hive = {
    options,
    layout,
    db,
    bus,
    auth,
    workspaces,
    cells,
    agents,
    diffs,
    files,
    terminals,
    hub,
    services,
    timings,
    app,
    server,
    url: "",
    async listen() {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          reject(
            e.code === "EADDRINUSE"
              ? new HiveError(
                  "UNAVAILABLE",
                  `Port ${options.port} on ${options.host} is already in use; pick another with --port.`,
                )
              : e.code === "EADDRNOTAVAIL"
                ? new HiveError(
                    "UNAVAILABLE",
                    `${options.host} is not an address of this machine; pick another with --host.`,
                  )
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
      agentTools.listening(hive.url);
      return hive.url;
    },
    async close() {
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const close of closers.reverse()) await close();
      await cells.stop();
      // Every service's process group ends with Hive; they start again (same ports) on the next start.
      await services.shutdown();
      serviceProxy.close();
      await agents.shutdown();
      await workspaces.close();
      auth.close();
      db.close();
    },
  };
  return hive;
}
