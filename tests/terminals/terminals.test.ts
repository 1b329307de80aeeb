import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Cell } from "../../shared/records.ts";
import type { TermSnapshot } from "../../shared/terminals.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

let repo: TempRepo;
let h: TestHive;
let cell: Cell;
let sock: TestSocket;
const sockets: TestSocket[] = [];

// One server and cell for the file: creating cells is not what these tests are about.
beforeAll(async () => {
  repo = makeRepo();
  h = await startHive(repo.path, { terminals: { shell: "/bin/bash", shellArgs: ["--noprofile", "--norc"] } });
  cell = await h.readyCell({ workspaceId: h.workspaceId, name: "term" });
});

beforeEach(async () => {
  sock = await connect();
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate();
});

afterAll(async () => {
  await h?.close();
  repo?.cleanup();
});

async function connect(): Promise<TestSocket> {
  const s = await TestSocket.connect(h.url, h.headers);
  sockets.push(s);
  return s;
}

describe("live terminals", () => {
  it("echoes input in a shell started in the cell's worktree with the cell's environment", async () => {
    const termId = await sock.openTerminal(cell.id);
    const view = await sock.attach(termId);
    view.input('echo "id=$HIVE_CELL_ID wt=$HIVE_WORKTREE pwd=$(pwd)"\r');
    await view.waitFor(`id=${cell.id} wt=${cell.worktreePath} pwd=${cell.worktreePath}`);
  });

  it("passes a resize on to the PTY", async () => {
    const termId = await sock.openTerminal(cell.id, 80, 24);
    const view = await sock.attach(termId);
    sock.send({ type: "term.resize", termId, cols: 132, rows: 41 });
    await sock.next((f) => f.type === "event" && (f.event as { type: string }).type === "resized");
    view.input("stty size\r");
    await view.waitFor("41 132");
  });

  it("refuses to close a shell running a program or a background job unless forced, naming it", async () => {
    const termId = await sock.openTerminal(cell.id);
    const view = await sock.attach(termId);
    view.input("echo go-$((1+1)); sleep 600\r");
    await view.waitFor("go-2");
    await new Promise((r) => setTimeout(r, 200));
    const refused = await sock.request({ type: "term.close", termId });
    expect(refused).toMatchObject({ type: "error", code: "TERMINAL_BUSY" });
    expect((refused as { message: string }).message).toMatch(/is running sleep; closing it ends sleep\./);
    expect(h.hive.terminals.list(cell.id).map((t) => t.termId)).toContain(termId);
    // A job left running in the background counts too.
    view.input("\x03");
    view.input("sleep 601 & echo bg-$((3+3))\r");
    await view.waitFor("bg-6");
    const background = await sock.request({ type: "term.close", termId });
    expect((background as { message: string }).message).toMatch(/is running sleep in the background;/);
    // Back at the prompt with nothing running, it closes at once.
    view.input("kill %1\r");
    await new Promise((r) => setTimeout(r, 300));
    const closed = sock.next((f) => f.type === "event" && (f.event as { type: string }).type === "closed");
    const idle = await sock.request({ type: "term.close", termId });
    expect(idle).toMatchObject({ type: "term.closed", termId });
    await closed;

    const busy = await sock.openTerminal(cell.id);
    const busyView = await sock.attach(busy);
    busyView.input("echo go-$((2+2)); sleep 600\r");
    await busyView.waitFor("go-4");
    await new Promise((r) => setTimeout(r, 200));
    expect(await sock.request({ type: "term.close", termId: busy, force: true })).toMatchObject({
      type: "term.closed",
    });
  });

  it("keeps output written before anyone subscribed (node-pty #652)", async () => {
    const termId = await sock.openTerminal(cell.id);
    sock.send({ type: "term.input", termId, data: "for i in 1 2 3; do echo early-$i; done\r" });
    await new Promise((r) => setTimeout(r, 500));
    const view = await sock.attach(termId);
    await view.waitFor("early-3");
  });

  it("delivers the last output before the exit code (node-pty #72, #726)", async () => {
    const termId = await sock.openTerminal(cell.id);
    const view = await sock.attach(termId);
    const exit = sock.next((f) => f.type === "event" && (f.event as { type: string }).type === "exit");
    view.input("seq 1 30000; exit 3\r");
    const ev = (await exit) as { event: { exitCode: number } };
    expect(ev.event.exitCode).toBe(3);
    await view.waitFor(/^30000$/m, 5000);
    const input = await sock.request({ type: "term.input", termId, data: "x" });
    expect(input).toMatchObject({ type: "error", code: "TERMINAL_CLOSED" });
  });

  it("replays the screen and scrollback to a client that reconnects", async () => {
    const termId = await sock.openTerminal(cell.id);
    const view = await sock.attach(termId);
    view.input("seq 1 20000\r");
    await view.waitFor(/^20000$/m);
    sock.terminate();
    const again = await connect();
    const replay = await again.attach(termId);
    const text = replay.text();
    expect(text).toMatch(/^19999\n20000$/m);
    // The compact history keeps the default 10,000 lines, in order.
    const numbers = text
      .split("\n")
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    expect(numbers.length).toBeGreaterThanOrEqual(9_900);
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
    replay.input("echo still-$((1+1))\r");
    await replay.waitFor("still-2");
  });

  it("lists a cell's terminals on its channel and closes them when the cell is deleted", async () => {
    const r = await h.api<Cell>("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "basic",
      name: "gone",
    });
    const cell = (await h.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
    const termId = await sock.openTerminal(cell.id);
    const snap = await sock.subscribe(`cell:${cell.id}`);
    expect((snap as { state: { terminals: TermSnapshot[] } }).state.terminals.map((t) => t.termId)).toEqual([
      termId,
    ]);
    await sock.attach(termId);
    const closed = sock.next(
      (f) =>
        f.type === "event" &&
        f.channel === `term:${termId}` &&
        (f.event as { type: string }).type === "closed",
    );
    await h.api("DELETE", `/api/cells/${cell.id}`);
    await closed;
    await h.waitForCell(cell.id, (c) => c === undefined);
    const timings = (
      await h.api<{ step: string; detail: string }[]>(
        "GET",
        `/api/timings?cellId=${cell.id}&step=close_terminals`,
      )
    ).body;
    expect(timings[0]?.detail).toBe("closed 1 terminal");
  });
});
