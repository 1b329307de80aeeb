import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Where Hive keeps its own state: --home, then HIVE_HOME, then ~/.hive. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(expandTilde(flag ?? env.HIVE_HOME ?? "~/.hive"));
}

export function expandTilde(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

export interface HomeLayout {
  root: string;
  stateDir: string;
  dbFile: string;
  logsDir: string;
  cellsDir: string;
  /** Sockets and pid files of Hive's own processes. */
  runDir: string;
}

export function homeLayout(root: string): HomeLayout {
  return {
    root,
    stateDir: join(root, "state"),
    dbFile: join(root, "state", "hive.db"),
    logsDir: join(root, "logs"),
    cellsDir: join(root, "cells"),
    runDir: join(root, "run"),
  };
}

/** Creates the home, private to its user: `run/` holds the terminal host's socket, `state/` the token. */
export function ensureHome(layout: HomeLayout): void {
  mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  for (const dir of [layout.root, layout.stateDir, layout.logsDir, layout.cellsDir, layout.runDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode does not apply to a directory that already exists.
    chmodSync(dir, 0o700);
  }
}
