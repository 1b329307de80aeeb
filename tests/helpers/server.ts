import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createHive, type Hive, type HiveOptions } from "../../server/app.ts";
import { stopPtyHost } from "../../server/terminals/host-client.ts";
import type { Cell } from "../../shared/records.ts";
import { opencodeXdgEnv } from "../fixtures/opencode-env.ts";
import { tempDir } from "./repo.ts";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export interface HiveClient {
  url: string;
  /** Extra headers every request carries (the session's auth). */
  headers: Record<string, string>;
  api<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Polls a cell until `done(cell)` holds (or the cell is gone, when `done` accepts undefined). */
  waitForCell(
    id: string,
    done: (cell: Cell | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<Cell | undefined>;
  /** Creates a cell (template "basic" unless given) and waits until it is ready; fails if it errors. */
  readyCell(body: {
    workspaceId: string;
    name: string;
    templateId?: string;
    description?: string;
  }): Promise<Cell>;
}

export interface TestHive extends HiveClient {
  hive: Hive;
  home: string;
  workspaceId: string;
  close(): Promise<void>;
}

function client(url: string, headers: Record<string, string>): HiveClient {
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text (setup log)
    }
    return { status: res.status, body: parsed as any };
  };
  const waitForCell = async (id: string, done: (cell: Cell | undefined) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await api("GET", `/api/cells/${id}`);
      const cell = r.status === 200 ? (r.body as Cell) : undefined;
      if (done(cell)) return cell;
      if (Date.now() > deadline)
        throw new Error(`cell ${id} did not reach the expected state; last: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  const readyCell = async (body: { workspaceId: string; name: string; templateId?: string }) => {
    const r = await api("POST", "/api/cells", { templateId: "basic", ...body });
    if (r.status !== 201) throw new Error(`creating cell '${body.name}' failed: ${JSON.stringify(r.body)}`);
    const cell = await waitForCell(r.body.id, (c) => c?.status !== "spawning");
    if (cell?.status !== "ready")
      throw new Error(`cell '${body.name}' did not become ready: ${JSON.stringify(cell)}`);
    return cell;
  };
  return { url, headers, api, waitForCell, readyCell };
}

/** The real server, in this process, on a free port with a temp home and the given repository registered. */
export async function startHive(repoPath: string, options: Partial<HiveOptions> = {}): Promise<TestHive> {
  const home = options.home ?? tempDir("hive-home-");
  const hive = await createHive({
    home,
    host: "127.0.0.1",
    port: 0,
    workspaces: [repoPath],
    // OpenCode's state goes in the temp home, never the user's.
    opencodeEnv: opencodeXdgEnv(join(home, "opencode-xdg")),
    ...options,
    // The agent joins only tests that set OpenCode up or ask for it: each OpenCode costs seconds of CPU.
    agents: options.agents ?? options.opencodeEnv !== undefined,
  });
  const url = await hive.listen();
  const headers = testAuthHeaders(hive);
  const c = client(url, headers);
  return {
    ...c,
    hive,
    home,
    workspaceId: hive.workspaces.list()[0]!.id,
    close: async () => {
      await hive.close();
      // The PTY host outlives the server by design (a test restarts Hive on the same home with hive.close()
      // and createHive); the test's end takes it along, and the home too unless the test brought its own.
      await stopPtyHost(home);
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Headers that authenticate a test client: the access token as a bearer token. */
function testAuthHeaders(hive: Hive): Record<string, string> {
  return hive.options.auth === false ? {} : { authorization: `Bearer ${hive.auth.token()}` };
}

export interface SpawnedHive extends HiveClient {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const BIN = join(import.meta.dirname, "..", "..", "bin", "hive.js");

/** The real server as a child process (for crash and restart tests). Resolves once it prints its URL. */
export async function spawnHive(args: string[], env: NodeJS.ProcessEnv = {}): Promise<SpawnedHive> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  let token: string | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hive did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = out.match(/Open (http:\/\/\S+?)\/(\S*)/);
      if (m) {
        clearTimeout(timer);
        token = new URLSearchParams(m[2]!.replace(/^[^?]*\?/, "")).get("token") ?? undefined;
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hive exited with ${code}:\n${out}`));
    });
  });
  const c = client(url, token ? { authorization: `Bearer ${token}` } : {});
  return {
    ...c,
    child,
    output: () => out,
    kill: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}
