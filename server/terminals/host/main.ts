import { rmSync, writeFileSync } from "node:fs";
import { ensureHome, homeLayout } from "../../home/home.ts";
import { hostBuild } from "./build.ts";
import { ptyHostPaths } from "./paths.ts";
import { PtyHost } from "./pty-host.ts";

/**
 * Entry of the PTY host process: `node --import tsx server/terminals/host/main.ts <hive home>`.
 * Started (detached, in its own process group) by the web server when no host answers on the home's
 * socket; ended by `hive stop --all` (stopPtyHost), or on its own once idle.
 */

/** With no terminal and no web server connected for this long, the host has nothing to keep. */
const IDLE_EXIT_MS = Number(process.env.HIVE_PTY_HOST_IDLE_MS ?? 60_000);

const home = process.argv[2];
if (!home) {
  console.error("usage: pty-host <hive home>");
  process.exit(2);
}
const layout = homeLayout(home);
ensureHome(layout);
const paths = ptyHostPaths(layout);

let exiting = false;
const exit = (code: number) => {
  if (exiting) return;
  exiting = true;
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.socket, { force: true });
  process.exit(code);
};

// The build of the code as it was when this host started: the files may be upgraded under it.
const host = new PtyHost(paths.socket, {
  idleExitMs: IDLE_EXIT_MS,
  onExit: () => exit(0),
  build: hostBuild(),
});
try {
  await host.listen();
} catch (err) {
  console.error(`pty-host: ${(err as Error).message}`);
  process.exit(1);
}
writeFileSync(paths.pidFile, `${process.pid}\n`);
console.error(`pty-host: pid ${process.pid} serving ${paths.socket}`);

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => void host.shutdown().finally(() => exit(0)));
}
// Detached from any terminal; a hangup must not end the shells it keeps.
process.on("SIGHUP", () => {});
