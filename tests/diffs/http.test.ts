import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type {
  DiffSummary,
  FileContent,
  FilesEvent,
  FilesSnapshot,
  ReviewComment,
} from "../../shared/diffs.ts";
import type { Cell } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

let repo: TempRepo | undefined;
let h: TestHive | undefined;

let sock: TestSocket | undefined;

afterEach(async () => {
  sock?.close();
  sock = undefined;
  await h?.close();
  repo?.cleanup();
  h = undefined;
  repo = undefined;
});

async function readyCell(hive: TestHive): Promise<Cell> {
  const r = await hive.api<Cell>("POST", "/api/cells", {
    workspaceId: hive.workspaceId,
    templateId: "basic",
    name: "review me",
  });
  expect(r.status).toBe(201);
  return (await hive.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
}

describe("diff review over HTTP", () => {
  it("shows a cell's changes, serves both sides of a file, keeps comments, and merges", async () => {
    repo = makeRepo({ "README.md": "# test repo\n", "src/app.ts": "const a = 1;\nconst b = 2;\n" });
    h = await startHive(repo.path);
    const cell = await readyCell(h);
    writeFileSync(join(cell.worktreePath!, "src/app.ts"), "const a = 1;\nconst b = 3;\n");
    writeFileSync(join(cell.worktreePath!, "new file.md"), "hello\n");

    const diff = await h.api<DiffSummary>("GET", `/api/cells/${cell.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body.files.map((f) => [f.path, f.status, f.additions, f.deletions])).toEqual([
      ["new file.md", "added", 1, 0],
      ["src/app.ts", "modified", 1, 1],
    ]);

    const file = await h.api<FileContent>("GET", `/api/cells/${cell.id}/diff/file?path=src/app.ts`);
    expect(file.body.old.content).toBe("const a = 1;\nconst b = 2;\n");
    expect(file.body.new.content).toBe("const a = 1;\nconst b = 3;\n");

    const outside = await h.api("GET", `/api/cells/${cell.id}/diff/file?path=${encodeURIComponent("../x")}`);
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe("PATH_OUTSIDE_WORKTREE");
    const badCompare = await h.api("GET", `/api/cells/${cell.id}/diff?compare=ref`);
    expect(badCompare.status).toBe(400);
    expect(badCompare.body.error.message).toMatch(/query\.ref: compare=ref needs a ref/);

    const c = await h.api<ReviewComment>("POST", `/api/cells/${cell.id}/comments`, {
      path: "src/app.ts",
      line: 2,
      body: "Why 3?",
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ line: 2, side: "new", anchorText: "const b = 3;" });
    const resolved = await h.api<ReviewComment>("PATCH", `/api/cells/${cell.id}/comments/${c.body.id}`, {
      resolved: true,
    });
    expect(resolved.body.resolved).toBe(true);
    expect((await h.api<ReviewComment[]>("GET", `/api/cells/${cell.id}/comments`)).body).toHaveLength(1);

    expect((await h.api("POST", `/api/cells/${cell.id}/commit`, { message: "Change b" })).status).toBe(200);
    const merged = await h.api("POST", `/api/cells/${cell.id}/merge`, { strategy: "ff" });
    expect(merged.status).toBe(200);
    expect(repo.git("log", "-1", "--format=%s", "main").trim()).toBe("Change b");
    expect((await h.api<Cell>("GET", `/api/cells/${cell.id}`)).body.branchStatus).toBe("merged");

    const badMerge = await h.api("POST", `/api/cells/${cell.id}/merge`, { strategy: "rebase" });
    expect(badMerge.status).toBe(400);
    expect(badMerge.body.error.message).toMatch(/body\.strategy/);
  });

  it("streams a cell's diff changes on the files channel, and stops watching when the tab leaves", async () => {
    repo = makeRepo({ "README.md": "# test repo\n", "a.txt": "one\n" });
    h = await startHive(repo.path);
    const cell = await readyCell(h);
    writeFileSync(join(cell.worktreePath!, "a.txt"), "two\n");
    sock = await TestSocket.connect(h.url, { ...h.headers, origin: h.url });
    const channel = `files:${cell.id}`;
    sock.send({ type: "subscribe", channel });
    const snap = await sock.next((f) => f.type === "snapshot" && f.channel === channel);
    const state = (snap as { state: FilesSnapshot }).state;
    expect(state.watch.mode).toBe("events");
    expect(state.summary?.files.map((f) => f.path)).toEqual(["a.txt"]);

    writeFileSync(join(cell.worktreePath!, "b.txt"), "new\n");
    const ev = await sock.next((f) => f.type === "event" && f.channel === channel);
    const event = (ev as { event: FilesEvent }).event;
    expect(event.changed.map((f) => f.path)).toEqual(["b.txt"]);
    expect(event.totals.files).toBe(2);
    expect(h.hive.files.watching()).toEqual([cell.id]);

    sock.send({ type: "unsubscribe", channel });
    await h.waitForCell(cell.id, () => h!.hive.files.watching().length === 0, 5000);

    sock.send({ type: "subscribe", channel: "files:nope" });
    const err = await sock.next((f) => f.type === "error");
    expect(err).toMatchObject({ code: "CELL_NOT_FOUND" });
  });
});
