import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { HiveError } from "../shared/errors.ts";
import { createHive, type Hive } from "./app.ts";
import { formatConfigIssues } from "./config/store.ts";
import { ensureHome, homeLayout, resolveHome } from "./home/home.ts";
import { PtyHostClient, stopPtyHost } from "./terminals/host-client.ts";
import { rotateToken } from "./transport/auth.ts";
import { type ClientDevServer, startClientDevServer } from "./transport/dev.ts";
import { ensureClientBuilt } from "./transport/static.ts";
import { readOrCreateToken } from "./transport/token.ts";
import { repoRoot } from "./worktrees/git.ts";

const USAGE = `Usage:
  hive [--workspace PATH] [--port N] [--host ADDR] [--home DIR] [--no-auth] [--allow-origin URL]... [--trust-proxy]
      Serve Hive on a repository (default: the current directory) at http://127.0.0.1:4860.
      --dev: serve the web app from its sources with hot reload (Vite), for working on Hive itself.
  hive token [--rotate] [--home DIR] Print the access token; --rotate makes a new one and signs out every session.
  hive stop --all [--home DIR]       Stop Hive's background processes (the terminal host).

Environment: HIVE_HOME (default ~/.hive), HIVE_OPENCODE_BIN.`;

export const DEFAULT_PORT = 4860;

function fail(message: string): never {
  console.error(`hive: ${message}`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const home = resolveHome(values.home);
  const command = positionals[0] ?? "serve";
  if (command === "token") {
    const layout = homeLayout(home);
    ensureHome(layout);
    if (values.rotate) console.error("hive: new access token made; every session is signed out.");
    console.log(values.rotate ? rotateToken(layout) : readOrCreateToken(layout));
    return;
  }
  if (command === "stop") {
    if (!values.all) fail("'hive stop' needs --all: it ends the terminal host and every shell in it.");
    const running = await PtyHostClient.isRunning(homeLayout(home));
    await stopPtyHost(home);
    console.log(
      running
        ? `hive: stopped the terminal host of ${home}.`
        : `hive: no terminal host was running for ${home}.`,
    );
    return;
  }
  if (command !== "serve") fail(`unknown command '${command}'.\n\n${USAGE}`);

  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a number from 0 to 65535, not '${values.port}'.`);
  const workspacePath = values.workspace ?? process.cwd();
  let hive: Hive;
  let dev: ClientDevServer | undefined;
  const building = new AbortController();
  try {
    const root = await repoRoot(workspacePath).catch(() => {
      throw new HiveError(
        "WORKSPACE_INVALID",
        existsSync(workspacePath)
          ? `${workspacePath} is not a git repository; run hive inside one or pass --workspace PATH.`
          : `${workspacePath} does not exist; pass --workspace with the path of a git repository.`,
      );
    });
    hive = await createHive({
      home,
      host: values.host ?? "127.0.0.1",
      port,
      workspaces: [root],
      auth: !values["no-auth"],
      allowOrigins: values["allow-origin"] ?? [],
      trustProxy: values["trust-proxy"] ?? false,
    });
    await hive.listen();
    if (values.dev) dev = await startClientDevServer(hive.url, values.host ?? "127.0.0.1");
    // npm start serves the built web app, (re)building it when missing or stale; the API and shells do
    // not wait for that, and until a first build exists the page says it is being built.
    else
      ensureClientBuilt(console.log, building.signal).catch((e) =>
        console.error(`hive: ${(e as Error).message}`),
      );
  } catch (e) {
    fail(e instanceof HiveError ? e.message : ((e as Error).stack ?? String(e)));
  }
  console.log(
    `Hive is serving ${hive.workspaces
      .list()
      .map((w) => w.path)
      .join(", ")}`,
  );
  const startUrl = new URL(hive.auth.startUrl(Number(new URL(hive.url).port)));
  // In dev mode the browser talks to Vite (hot reload), which forwards /auth, /api and /ws to Hive.
  console.log(`Open ${dev ? `${dev.url}${startUrl.pathname}${startUrl.search}` : startUrl.href}`);
  console.log(`Home: ${home}`);
  reportConfigErrors(hive);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nhive: ${signal}: stopping (shells keep running in the terminal host).`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    building.abort();
    Promise.all([hive.close(), dev?.close()]).then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/** Config problems go to the console too, with file, line and key path, now and whenever the file changes. */
function reportConfigErrors(hive: Hive): void {
  const report = (workspaceId: string) => {
    const store = hive.workspaces.config(workspaceId);
    const { errors } = store.current;
    if (errors) {
      console.error(`hive: ${store.file} is invalid; the last good config stays in force:`);
      console.error(formatConfigIssues(store.file, errors));
    }
  };
  for (const w of hive.workspaces.list()) report(w.id);
  hive.bus.on("config.changed", ({ workspaceId }) => report(workspaceId));
}

function parseCli(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: "string", short: "w" },
      port: { type: "string", short: "p" },
      host: { type: "string" },
      home: { type: "string" },
      "no-auth": { type: "boolean" },
      "allow-origin": { type: "string", multiple: true },
      "trust-proxy": { type: "boolean" },
      dev: { type: "boolean" },
      rotate: { type: "boolean" },
      all: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

await main(process.argv.slice(2));
