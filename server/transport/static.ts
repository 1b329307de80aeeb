import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Request, type Response, Router } from "express";
import { HiveError } from "../../shared/errors.ts";
import { runCommand } from "../setup/run-command.ts";

const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));
export const CLIENT_DIST = join(ROOT, "dist", "client");
/** What the built app is made of: when any of it is newer than the build, the build is stale. */
const CLIENT_SOURCES = [join(ROOT, "client"), join(ROOT, "shared"), join(ROOT, "vite.config.ts")];
/** Only the app's own routes fall back to index.html; the API, sign-in and socket never do. */
const NOT_APP = /^\/(api|auth|ws)(\/|$)/;
const BUILD_TIMEOUT_MS = 180_000;
const BUILDING_PAGE = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>Hive</title>
<body style="font-family:system-ui;padding:2em">Hive is building its web app; this page reloads by itself in a moment.
(If it does not, run <code>npm run build</code>.)</body>`;

/**
 * Serves the built web app: hashed assets cached for good, index.html never cached, and every app
 * route (/cells/…, /timings) answered with index.html so a reload lands on the same screen. These
 * are public: the app must load to show its sign-in page, and all data lives behind /api and /ws.
 */
export function staticRoutes(dist: string = CLIENT_DIST): Router {
  const r = Router();
  const index = join(dist, "index.html");
  r.use("/assets", express.static(join(dist, "assets"), { immutable: true, maxAge: "1y", index: false }));
  // A missing asset is a 404 (an old tab asking for a chunk of a previous build), never index.html.
  r.use("/assets", (req, _res, next) =>
    next(new HiveError("NOT_FOUND", `No asset ${req.path} in this build of the app.`)),
  );
  r.use(express.static(dist, { index: false, maxAge: 0 }));
  r.get(/.*/, (req: Request, res: Response, next) => {
    if (NOT_APP.test(req.path) || !req.accepts("html")) return next();
    if (!existsSync(index)) {
      // First start: the build runs beside the server; this page reloads itself until it is there.
      return res.status(503).set("Cache-Control", "no-store").type("html").send(BUILDING_PAGE);
    }
    res.set("Cache-Control", "no-store").sendFile(index);
  });
  return r;
}

/** The newest modification time under these paths (files only), 0 when none exist. */
function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (p: string) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== "node_modules") visit(join(p, name));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

/** True when dist/client is missing or older than the sources it is built from. */
export function clientBuildIsStale(dist: string = CLIENT_DIST, sources: string[] = CLIENT_SOURCES): boolean {
  const index = join(dist, "index.html");
  if (!existsSync(index)) return true;
  const sourcesTime = newestMtime(sources);
  // An installed package ships dist/ without client/: nothing to compare with, the build is what there is.
  return sourcesTime > 0 && sourcesTime > statSync(index).mtimeMs;
}

/**
 * `npm start` serves the built app, building it when it is missing or stale (the server starts beside
 * the build). Returns whether it built. `log` says what is happening, since a build takes a while.
 */
export async function ensureClientBuilt(
  log: (line: string) => void = console.log,
  /** Aborting ends the build (Hive is stopping): its process group is killed and nothing is swapped in. */
  signal: AbortSignal = new AbortController().signal,
): Promise<boolean> {
  if (!clientBuildIsStale()) return false;
  const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  if (!existsSync(join(ROOT, "client", "index.html")) || !existsSync(vite)) {
    throw new HiveError(
      "UNAVAILABLE",
      `The web app is not built at ${CLIENT_DIST} and cannot be built here (client sources or vite missing); run \`npm install && npm run build\` in ${ROOT}.`,
    );
  }
  // Several Hives (or test files) may start at once: one builds, the others wait for it.
  const release = await acquireBuildLock();
  try {
    if (!clientBuildIsStale()) return false;
    log("hive: building the web app (first start or sources changed)…");
    await build(vite, signal);
    return true;
  } finally {
    release();
  }
}

/**
 * Builds into a fresh directory and swaps it in, so a running server never serves a half-emptied
 * dist/client (vite empties its output directory first).
 */
async function build(vite: string, signal: AbortSignal): Promise<void> {
  const next = `${CLIENT_DIST}.next-${process.pid}`;
  const old = `${CLIENT_DIST}.old-${process.pid}`;
  const logFile = join(ROOT, "dist", "client-build.log");
  const result = await runCommand({
    command: `${shellQuote(process.execPath)} ${shellQuote(vite)} build --logLevel warn --emptyOutDir --outDir ${shellQuote(next)}`,
    cwd: ROOT,
    // Whatever runs Hive (a test runner sets NODE_ENV=test), the app is built for production: no Lit dev mode.
    env: { ...process.env, NODE_ENV: "production" } as Record<string, string>,
    timeoutMs: BUILD_TIMEOUT_MS,
    logFile,
    signal,
  });
  if (result.exitCode !== 0 || signal.aborted) {
    rmSync(next, { recursive: true, force: true });
    if (signal.aborted) throw new HiveError("UNAVAILABLE", "The web app build was stopped.");
    throw new HiveError("INTERNAL", `Building the web app failed (log: ${logFile}):\n${result.tail}`);
  }
  if (existsSync(CLIENT_DIST)) renameSync(CLIENT_DIST, old);
  renameSync(next, CLIENT_DIST);
  rmSync(old, { recursive: true, force: true });
}

/** A lock directory beside the build (mkdir is atomic); one left by a crashed build expires. */
async function acquireBuildLock(): Promise<() => void> {
  const lock = join(ROOT, "dist", "client-build.lock");
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      return () => rmSync(lock, { recursive: true, force: true });
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > BUILD_TIMEOUT_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new HiveError("UNAVAILABLE", `Another build of the web app holds ${lock}.`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
