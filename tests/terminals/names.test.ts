import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { stopPtyHost } from "../../server/terminals/host-client.ts";
import type { ServerFrame } from "../../shared/protocol.ts";
import type { Cell } from "../../shared/records.ts";
import type { TerminalInfo } from "../../shared/terminals.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { type SpawnedHive, spawnHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

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

describe("terminal names", () => {
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
