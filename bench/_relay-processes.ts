import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../tests/helpers/repo.ts";

/** Run from the checkout, so that the scripts find node-pty and ws. */
const ROOT = join(import.meta.dirname, "..");

/**
 * Script code for the PTY's side of a relay: `relay(p, s)` sends the PTY's output to the socket, as one
 * write per turn of the event loop, and pauses the PTY while the socket is full.
 */
export const RELAY_PTY_OUTPUT = `
function relay(p, s) {
  let corked = false;
  p.onData((d) => {
    if (!corked) {
      corked = true;
      s.cork();
      setImmediate(() => {
        corked = false;
        s.uncork();
      });
    }
    if (!s.write(d)) {
      p.pause();
      s.once("drain", () => p.resume());
    }
  });
}
`;

/**
 * The processes of a bench's bare relay (see _relay-floor.ts, _plain-terminals.ts): each is a module
 * given as code, run by `node -e` with a unix socket path of its own temp directory as its first
 * argument, and says it is ready by printing one line. Closing kills them and removes the directory.
 */
export class RelayProcesses {
  readonly sockPath: string;
  private readonly children: ChildProcess[] = [];

  constructor(prefix: string) {
    this.sockPath = join(tempDir(prefix), "pty.sock");
  }

  /** Starts one; resolves with the line it prints once ready. */
  start(code: string, args: string[] = []): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", code, this.sockPath, ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      });
      this.children.push(child);
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`relay process exited (${code})`)));
      child.stdout!.once("data", (d) => resolve(String(d).trim()));
    });
  }

  close(): void {
    for (const c of this.children) c.kill("SIGKILL");
    rmSync(dirname(this.sockPath), { recursive: true, force: true });
  }
}
