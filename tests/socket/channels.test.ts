import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerFrame } from "../../shared/protocol.ts";
import type { Cell } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "./ws-client.ts";

let repo: TempRepo;
let h: TestHive;

beforeAll(async () => {
  repo = makeRepo();
  h = await startHive(repo.path);
});

afterAll(async () => {
  await h?.close();
  repo?.cleanup();
});

type EventFrame = Extract<ServerFrame, { type: "event" }>;
const eventsOf = (s: TestSocket, channel: string) =>
  s.frames.filter((f): f is EventFrame => f.type === "event" && f.channel === channel);

async function createCell(name: string): Promise<Cell> {
  const r = await h.api<Cell>("POST", "/api/cells", {
    workspaceId: h.workspaceId,
    templateId: "basic",
    name,
  });
  expect(r.status).toBe(201);
  return r.body;
}

describe("the workspace and cell channels on the real server", () => {
  it("snapshot the workspaces, a workspace's cells and a cell, then send each change as it happens", async () => {
    const s = await TestSocket.connect(h.url, h.headers);
    const all = await s.subscribe("workspaces:all");
    expect((all as { state: { workspaces: { id: string }[] } }).state.workspaces.map((w) => w.id)).toEqual([
      h.workspaceId,
    ]);
    const list = `workspace:${h.workspaceId}`;
    await s.subscribe(list);
    const cell = await createCell("watched");
    const snap = await s.subscribe(`cell:${cell.id}`);
    expect(snap).toMatchObject({ type: "snapshot", state: { cell: { id: cell.id }, terminals: [] } });
    await s.next(
      (f) =>
        f.type === "event" && f.channel === list && (f.event as { cell?: Cell }).cell?.status === "ready",
    );
    await h.waitForCell(cell.id, (c) => c?.status === "ready");
    const cellEvents = eventsOf(s, `cell:${cell.id}`).map((e) => (e.event as { type: string }).type);
    expect(cellEvents).toEqual(expect.arrayContaining(["cell.updated", "cell.step", "cell.steps"]));
    for (const channel of [list, `cell:${cell.id}`]) {
      const seqs = eventsOf(s, channel).map((e) => e.seq);
      expect(seqs.every((n, i) => i === 0 || n === seqs[i - 1]! + 1)).toBe(true);
    }
    s.close();
  });

  it("gives a client that reconnects with `since` exactly the events it missed", async () => {
    const list = `workspace:${h.workspaceId}`;
    const first = await TestSocket.connect(h.url, h.headers);
    await first.subscribe(list);
    const a = await createCell("before-drop");
    await first.next(
      (f) => f.type === "event" && f.channel === list && (f.event as { cell?: Cell }).cell?.id === a.id,
    );
    await h.waitForCell(a.id, (c) => c?.status === "ready");
    await new Promise((r) => setTimeout(r, 200));
    const seen = eventsOf(first, list);
    const last = seen.at(-1)!.seq;
    first.terminate();

    const b = await createCell("while-away");
    await h.waitForCell(b.id, (c) => c?.status === "ready");
    const again = await TestSocket.connect(h.url, h.headers);
    again.send({ type: "subscribe", channel: list, since: last });
    const c = await createCell("after-return");
    await again.next(
      (f) => f.type === "event" && f.channel === list && (f.event as { cell?: Cell }).cell?.id === c.id,
    );
    expect(again.frames.some((f) => f.type === "snapshot")).toBe(false);
    const got = eventsOf(again, list);
    expect(got[0]!.seq).toBe(last + 1);
    expect(got.map((e) => e.seq)).toEqual(got.map((_, i) => last + 1 + i));
    expect(got.some((e) => (e.event as { cell?: Cell }).cell?.id === b.id)).toBe(true);
    again.close();
  });
});
