import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cell, TimingEvent, Workspace } from "../../shared/records.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

let repo: TempRepo;
let h: TestHive;

afterEach(async () => {
  await h?.close();
  repo?.cleanup();
});

const readyCell = (name = "cell"): Promise<Cell> => h.readyCell({ workspaceId: h.workspaceId, name });

describe("deleting, archiving and restoring cells", () => {
  it("deletes the worktree and the branch, and keeps the timing history", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const cell = await readyCell();
    const del = await h.api("DELETE", `/api/cells/${cell.id}`);
    expect(del.status).toBe(202);
    expect(del.body.status).toBe("deleting");
    await h.waitForCell(cell.id, (c) => c === undefined);
    expect(existsSync(cell.worktreePath!)).toBe(false);
    expect(repo.git("branch", "--list", cell.branchName!).trim()).toBe("");
    const history = (await h.api<TimingEvent[]>("GET", `/api/timings?cellId=${cell.id}`)).body;
    const steps = history.filter((t) => t.workflow === "delete").map((t) => t.step);
    expect(steps).toEqual(expect.arrayContaining(["remove_worktree", "delete_branch", "delete_cell_record"]));
    expect((await h.api("GET", `/api/cells/${cell.id}`)).status).toBe(404);
  });

  it("keeps a branch that has commits not merged into its base, and says so", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const cell = await readyCell();
    const { execFileSync } = await import("node:child_process");
    execFileSync(
      "git",
      ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "work"],
      {
        cwd: cell.worktreePath!,
      },
    );
    await h.api("DELETE", `/api/cells/${cell.id}`);
    await h.waitForCell(cell.id, (c) => c === undefined);
    expect(repo.git("branch", "--list", cell.branchName!).trim()).toContain(cell.branchName!);
    const history = (await h.api<TimingEvent[]>("GET", `/api/timings?cellId=${cell.id}&step=delete_branch`))
      .body;
    expect(history[0]!.detail).toMatch(/kept .*1 commit\(s\) not merged/);
  });

  it("deletes a cell that is still provisioning, cancelling its setup", async () => {
    repo = makeRepo();
    repo.writeConfig({ templates: [{ id: "basic", label: "Basic", setup: ["sleep 30"] }] });
    repo.commit("config");
    h = await startHive(repo.path);
    const r = await h.api<Cell>("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "basic",
      name: "slow",
    });
    await h.waitForCell(r.body.id, (c) => c?.currentStep === "run_setup:0");
    const setupLog = join(h.home, "logs", "cells", r.body.id, "setup.log");
    expect(existsSync(setupLog)).toBe(true);
    await h.api("DELETE", `/api/cells/${r.body.id}`);
    await h.waitForCell(r.body.id, (c) => c === undefined, 15_000);
    expect(existsSync(r.body.worktreePath!)).toBe(false);
    // Readable only through the cell, its setup log goes with it.
    expect(existsSync(dirname(setupLog))).toBe(false);
  });

  it("archives a cell keeping its worktree and branch, and restores it", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const cell = await readyCell();
    expect((await h.api("POST", `/api/cells/${cell.id}/archive`)).status).toBe(202);
    await h.waitForCell(cell.id, (c) => c?.status === "archived");
    expect(existsSync(cell.worktreePath!)).toBe(true);
    expect(repo.git("branch", "--list", cell.branchName!)).toContain(cell.branchName!);
    const again = await h.api("POST", `/api/cells/${cell.id}/archive`);
    expect(again.status).toBe(409);
    expect((await h.api("POST", `/api/cells/${cell.id}/restore`)).status).toBe(202);
    await h.waitForCell(cell.id, (c) => c?.status === "ready");
  });

  it("answers unknown cells and malformed requests with a coded error", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const missing = await h.api("GET", "/api/cells/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("CELL_NOT_FOUND");
    const bad = await h.api("POST", "/api/cells", { workspaceId: h.workspaceId, name: "" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("body.templateId");
    const badJson = await h.api("POST", "/api/cells", "{not json");
    expect(badJson.status).toBe(400);
    const noTemplate = await h.api("POST", "/api/cells", {
      workspaceId: h.workspaceId,
      templateId: "nope",
      name: "x",
    });
    expect(noTemplate.status).toBe(404);
    expect(noTemplate.body.error.code).toBe("TEMPLATE_NOT_FOUND");
  });
});

describe("workspaces", () => {
  it("registers another repository and refuses a path that is not one", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const other = makeRepo();
    try {
      const ok = await h.api("POST", "/api/workspaces", { path: other.path });
      expect(ok.status).toBe(201);
      expect(ok.body.path).toBe(other.path);
      const again = await h.api("POST", "/api/workspaces", { path: other.path });
      expect(again.body.id).toBe(ok.body.id);
      const bad = await h.api("POST", "/api/workspaces", { path: "/definitely/not/here" });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe("WORKSPACE_INVALID");
      const relative = await h.api("POST", "/api/workspaces", { path: "some/repo" });
      expect(relative.body.error.message).toBe(
        "some/repo is not an absolute path; give the repository's full path.",
      );
      // `~` is the home directory, as in a shell.
      vi.stubEnv("HOME", dirname(other.path));
      try {
        const tilde = await h.api("POST", "/api/workspaces", { path: `~/${basename(other.path)}` });
        expect(tilde.body.id).toBe(ok.body.id);
      } finally {
        vi.unstubAllEnvs();
      }
      const file = await h.api("POST", "/api/workspaces", { path: `${other.path}/README.md` });
      expect(file.status).toBe(422);
      expect(file.body.error.message).toContain("is a file");
      const notGit = await h.api("POST", "/api/workspaces", { path: h.home });
      expect(notGit.status).toBe(422);
      expect(notGit.body.error.message).toContain("not inside a git repository");
      expect((await h.api("GET", "/api/workspaces")).body).toHaveLength(2);
    } finally {
      other.cleanup();
    }
  });

  it("removes a workspace without cells, leaving its repository as it was, and refuses one with cells", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const other = makeRepo();
    const s = await TestSocket.connect(h.url, h.headers);
    try {
      const added = (await h.api<Workspace>("POST", "/api/workspaces", { path: other.path })).body;
      await s.subscribe("workspaces:all");
      const cell = await readyCell("keeps it");
      const archived = await readyCell("archived one");
      await h.api("POST", `/api/cells/${archived.id}/archive`);
      await h.waitForCell(archived.id, (c) => c?.status === "archived");

      const busy = await h.api("DELETE", `/api/workspaces/${h.workspaceId}`);
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe("WORKSPACE_BUSY");
      expect(busy.body.error.message).toMatch(
        /2 cell\(s\) \('keeps it', 'archived one'\).*delete them first/,
      );
      expect((await h.api("GET", `/api/cells/${cell.id}`)).status).toBe(200);

      const head = other.git("rev-parse", "HEAD");
      const told = s.next(
        (f) =>
          f.type === "event" &&
          f.channel === "workspaces:all" &&
          (f.event as { type: string; workspaceId?: string }).workspaceId === added.id,
      );
      const removed = await h.api("DELETE", `/api/workspaces/${added.id}`);
      expect(removed.status).toBe(204);
      expect((await told).type).toBe("event");
      expect((await h.api<Workspace[]>("GET", "/api/workspaces")).body.map((w) => w.id)).toEqual([
        h.workspaceId,
      ]);
      expect(other.git("rev-parse", "HEAD")).toBe(head);
      expect(other.git("status", "--porcelain")).toBe("");
      expect((await h.api("DELETE", `/api/workspaces/${added.id}`)).body.error.code).toBe(
        "WORKSPACE_NOT_FOUND",
      );
      expect((await h.api("GET", `/api/templates?workspaceId=${added.id}`)).status).toBe(404);
      // Added again, it is a workspace like any other.
      const again = (await h.api<Workspace>("POST", "/api/workspaces", { path: other.path })).body;
      // Its repository deleted behind Hive's back: a new cell says so, and where it was.
      other.cleanup();
      const orphan = await h.api("POST", "/api/cells", {
        workspaceId: again.id,
        templateId: "basic",
        name: "x",
      });
      expect(orphan.status).toBe(422);
      expect(orphan.body.error.message).toBe(
        `The repository of ${again.name} is no longer at ${other.path} (moved or deleted): put it back there, or remove the workspace from Hive.`,
      );
      expect((await h.api("DELETE", `/api/workspaces/${again.id}`)).status).toBe(204);
    } finally {
      s.close();
      other.cleanup();
    }
  });
});
