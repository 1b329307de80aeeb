import { mkdirSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CellRepo } from "../../server/db/cells.ts";
import { type Db, openDb } from "../../server/db/connection.ts";
import { WorkspaceRepo } from "../../server/db/workspaces.ts";
import { EventBus } from "../../server/events/bus.ts";
import { groupMembers, scanProcesses } from "../../server/services/proc.ts";
import { Services } from "../../server/services/services.ts";
import { type TemplateInput, TemplateSchema } from "../../shared/config.ts";
import type { Cell } from "../../shared/records.ts";
import { cellRecord } from "../helpers/cell-record.ts";

export const SERVICE_FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "fixtures",
  "http-service.mjs",
);

/** `node <fixture> <flags>`: the command a template runs for the small test service. */
export function serviceCommand(flags = ""): string {
  return `exec node ${SERVICE_FIXTURE} ${flags}`.trim();
}

export function template(services: TemplateInput["services"]) {
  return TemplateSchema.parse({ id: "t", label: "Test", services });
}

/**
 * A real database, bus and Services module in a temp home, with cells whose "worktrees" are temp
 * directories (services only need a directory to run in).
 */
export class ServicesHarness {
  readonly root = mkdtempSync(join(tmpdir(), "hive-services-"));
  readonly db: Db;
  readonly bus = new EventBus();
  readonly cells: CellRepo;
  services: Services;

  constructor(readonly portRange: [number, number]) {
    mkdirSync(join(this.root, "logs"));
    this.db = openDb(join(this.root, "hive.db"));
    this.cells = new CellRepo(this.db);
    new WorkspaceRepo(this.db).insert({
      id: "ws1",
      path: this.root,
      slug: "ws",
      name: "ws",
      createdAt: new Date().toISOString(),
    });
    this.services = this.makeServices();
  }

  makeServices(): Services {
    return new Services({
      db: this.db,
      bus: this.bus,
      logsDir: join(this.root, "logs"),
      host: "127.0.0.1",
      portRange: this.portRange,
      cells: this.cells,
    });
  }

  addCell(id: string): Cell {
    const worktree = join(this.root, "cells", id);
    mkdirSync(worktree, { recursive: true });
    const cell = cellRecord({
      id,
      templateId: "t",
      workspaceId: "ws1",
      workspacePath: this.root,
      worktreePath: worktree,
      branchName: `hive/${id}`,
      status: "spawning",
    });

    this.cells.insert(cell);
    return cell;
  }

  /** Shuts the services down and fails the test if any process still works inside this temp home. */
  async close(): Promise<void> {
    await this.services.shutdown();
    this.db.close();
    const strays = scanProcesses().filter((p) => {
      try {
        return p.state !== "Z" && readlinkSync(`/proc/${p.pid}/cwd`).startsWith(this.root);
      } catch {
        return false;
      }
    });
    for (const p of strays) process.kill(p.pid, "SIGKILL");
    rmSync(this.root, { recursive: true, force: true });
    if (strays.length > 0) throw new Error(`processes left behind: ${strays.map((p) => p.pid).join(", ")}`);
  }
}

/** Live processes whose process group is one of these (from /proc). */
export function liveInGroups(pgids: number[]): number[] {
  const table = scanProcesses();
  return pgids.flatMap((g) => groupMembers(g, table).map((p) => p.pid));
}

export async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
