import { join } from "node:path";
import type { HomeLayout } from "../../home/home.ts";

export function ptyHostPaths(layout: HomeLayout): { socket: string; pidFile: string; logFile: string } {
  return {
    socket: join(layout.runDir, "pty-host.sock"),
    pidFile: join(layout.runDir, "pty-host.pid"),
    logFile: join(layout.logsDir, "pty-host.log"),
  };
}
