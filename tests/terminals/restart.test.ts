import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stopPtyHost } from "../../server/terminals/host-client.ts";
import type { ServerFrame } from "../../shared/protocol.ts";
import type { Cell } from "../../shared/records.ts";
import type { TerminalInfo } from "../../shared/terminals.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { type SpawnedHive, spawnHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "hive.js");
let repo: TempRepo;
let home: string;
const running: SpawnedHive[] = [];
const sockets: TestSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const h of running.splice(0)) await h.kill("SIGKILL");
  await stopPtyHost(home);
  repo?.cleanup();
  rmSync(home, { recursive: true, force: true });
});

async function start(): Promise<SpawnedHive> {
  // The user's login shell is bash here, so the terminal is the default one: `bash -l`.
  const h = await spawnHive(["--workspace", repo.path, "--home", home, "--port", "0"], {
    SHELL: "/bin/bash",
  });
  running.push(h);
  return h;
}

async function connect(h: SpawnedHive): Promise<TestSocket> {
  const s = await TestSocket.connect(h.url, h.headers);
  sockets.push(s);
  return s;
}

const terminalsOf = (snapshot: ServerFrame) =>
  (snapshot as { state: { terminals: TerminalInfo[] } }).state.terminals;

describe("terminals across a restart of the Hive server", () => {
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    it(`keeps the shell, its scrollback and its state when the server gets ${signal}`, async () => {
      repo = makeRepo();
      home = tempDir("hive-home-");
      const first = await start();
      const ws = (await first.api("GET", "/api/workspaces")).body[0].id;
      const r = await first.api<Cell>("POST", "/api/cells", {
        workspaceId: ws,
        templateId: "basic",
        name: "keep",
      });
      const cell = (await first.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
      const sock = await connect(first);
      const termId = await sock.openTerminal(cell.id, 100, 30);
      const view = await sock.attach(termId);
      view.input("shopt -q login_shell && echo LOGIN-$((6*7)); export X=kept; seq 1 5000\r");
      await view.waitFor(/^5000$/m);
      expect(view.text()).toMatch(/^LOGIN-42$/m);

      await first.kill(signal);
      const second = await start();
      const again = await connect(second);
      const replay = await again.attach(termId);
      expect(replay.text()).toMatch(/^4999\n5000$/m);
      expect(replay.text()).toMatch(/^LOGIN-42$/m);
      replay.input('echo "got-$X"\r');
      await replay.waitFor(/^got-kept$/m);
    });
  }

  it("ends the terminal host and its shells with `hive stop --all`", async () => {
    repo = makeRepo();
    home = tempDir("hive-home-");
    const h = await start();
    const ws = (await h.api("GET", "/api/workspaces")).body[0].id;
    const r = await h.api<Cell>("POST", "/api/cells", { workspaceId: ws, templateId: "basic", name: "stop" });
    const cell = (await h.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
    const sock = await connect(h);
    const view = await sock.attach(await sock.openTerminal(cell.id));
    view.input("echo shell-pid=$$\r");
    await view.waitFor(/^shell-pid=\d+$/m);
    const shellPid = Number(/^shell-pid=(\d+)$/m.exec(view.text())![1]);
    const hostPid = Number(readFileSync(join(home, "run", "pty-host.pid"), "utf8"));
    await h.kill("SIGTERM");
    expect(alive(hostPid) && alive(shellPid)).toBe(true);
    const out = execFileSync(process.execPath, [BIN, "stop", "--all", "--home", home], { encoding: "utf8" });
    expect(out).toContain("stopped the terminal host");
    await expect.poll(() => alive(hostPid) || alive(shellPid), { timeout: 5000 }).toBe(false);
  });

  it("a rename reaches every watcher of the cell, and survives a restart of Hive, with the shell", async () => {
    repo = makeRepo();
    home = tempDir("hive-home-");
    const first = await start();
    const ws = (await first.api("GET", "/api/workspaces")).body[0].id;
    const r = await first.api<Cell>("POST", "/api/cells", {
      workspaceId: ws,
      templateId: "basic",
      name: "named",
    });
    const cell = (await first.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
    const me = await connect(first);
    const other = await connect(first);
    const termId = await me.openTerminal(cell.id);
    await other.subscribe(`cell:${cell.id}`);

    me.send({ type: "term.rename", termId, name: "  builds  " });
    const update = (await other.next(
      (f) => f.type === "event" && (f.event as { type: string }).type === "terminal.updated",
    )) as { event: { terminal: TerminalInfo } };
    expect(update.event.terminal).toMatchObject({ termId, name: "builds" });

    me.send({ type: "term.rename", termId, name: "   " });
    const refused = await me.next((f) => f.type === "error");
    expect(refused).toMatchObject({ type: "error", code: "BAD_FRAME" });

    await first.kill("SIGKILL");
    const second = await start();
    const again = await connect(second);
    expect(terminalsOf(await again.subscribe(`cell:${cell.id}`))).toEqual([
      expect.objectContaining({ termId, name: "builds" }),
    ]);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
