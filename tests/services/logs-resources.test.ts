import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceLog } from "../../server/services/log.ts";
import { HISTORY_MS } from "../../server/services/resources.ts";
import { TemplateSchema } from "../../shared/config.ts";
import { ServicesHarness, serviceCommand, template, until } from "./harness.ts";

const RANGE: [number, number] = [23800, 23899];

describe("service logs", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("rotates the file past its size limit and keeps following it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hive-log-"));
    dirs.push(dir);
    const file = join(dir, "web.log");
    const log = new ServiceLog(file, 10_000);
    const seen: string[] = [];
    log.onOutput((t) => seen.push(t));
    try {
      for (let i = 0; i < 30; i++) {
        appendFileSync(file, `line ${i} ${"x".repeat(990)}\n`);
        log.pump();
      }
      expect(existsSync(`${file}.1`)).toBe(true);
      expect(statSync(file).size).toBeLessThanOrEqual(10_000);
      expect(statSync(`${file}.1`).size).toBeGreaterThan(10_000);
      appendFileSync(file, "after rotation\n");
      log.pump();
      expect(seen.join("")).toContain("line 29");
      expect(log.tail(1000)).toContain("after rotation");
      expect(await log.serialize()).toContain("after rotation");
    } finally {
      log.dispose();
    }
  });

  it("replays the end of an existing log into a fresh screen (after a Hive restart)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hive-log-"));
    dirs.push(dir);
    const file = join(dir, "web.log");
    appendFileSync(file, "before the restart\n");
    const log = new ServiceLog(file);
    try {
      expect(await log.serialize()).toContain("before the restart");
    } finally {
      log.dispose();
    }
  });
});

describe("service config", () => {
  it("refuses two ready checks, and readyPort without a port, naming the key", () => {
    const r = TemplateSchema.safeParse({
      id: "t",
      label: "T",
      services: {
        web: { run: "x", readyPattern: "up", readyUrl: "http://127.0.0.1:$PORT/" },
        db: { run: "x", port: false, readyPort: true },
      },
    });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toContain("services.web.readyUrl: give one ready check, not readyPattern and readyUrl");
    expect(issues).toContain("services.db.readyPort: needs a port, but this service has port: false");
  });
});

describe("resources and archive", () => {
  let h: ServicesHarness;
  afterEach(async () => {
    await h?.close();
  });

  it("samples CPU and memory of services and of anything else running in the worktree, a day of history", async () => {
    h = new ServicesHarness(RANGE);
    const cell = h.addCell("c1");
    await h.services.prepare(
      cell,
      template({
        busy: { run: `exec node -e "setInterval(()=>{const t=Date.now();while(Date.now()-t<40);},50)"` },
      }),
    );
    await h.services.ensure("c1", "busy");
    // A "shell" of the cell: a process working in its worktree, not started by the services module.
    const shell = spawn("sleep", ["30"], { cwd: cell.worktreePath!, detached: true, stdio: "ignore" });
    try {
      h.services.resources.sample();
      await new Promise((r) => setTimeout(r, 1000));
      const [sample] = h.services.resources.sample();
      expect(sample!.bySource["service:busy"]!.cpuPercent).toBeGreaterThan(20);
      expect(sample!.bySource.worktree!.processes).toBe(1);
      expect(sample!.rssBytes).toBeGreaterThan(sample!.bySource["service:busy"]!.rssBytes);

      h.db
        .prepare(
          "UPDATE cell_resource_samples SET at = at - ? WHERE id = (SELECT MIN(id) FROM cell_resource_samples)",
        )
        .run(HISTORY_MS + 1000);
      h.services.resources.sample();
      const r = h.services.resourcesOf("c1", 24 * 60);
      expect(r.history).toHaveLength(2); // the day-old one is gone
      expect(r.latest!.cellId).toBe("c1");
    } finally {
      process.kill(-shell.pid!, "SIGKILL");
    }
  });

  it("archiving stops services but keeps their ports; restoring starts them on the same ports", async () => {
    h = new ServicesHarness(RANGE);
    const cell = h.addCell("c1");
    const tpl = template({ web: { run: serviceCommand("--name web"), readyPattern: "listening" } });
    await h.services.prepare(cell, tpl);
    await h.services.ensure("c1", "web");
    const port = h.services.get("c1", "web").port;
    await h.services.teardown("c1", "archive");
    expect(h.services.get("c1", "web").status).toBe("stopped");
    h.cells.update("c1", { status: "archived" });
    expect(() => h.services.start("c1", "web")).toThrow(
      /is archived; its services start only in a live cell/,
    );
    h.cells.update("c1", { status: "spawning" });
    expect(h.services.get("c1", "web").port).toBe(port);
    await h.services.prepare(cell, tpl);
    await h.services.ensure("c1", "web");
    const back = await until(() => {
      const s = h.services.get("c1", "web");
      return s.status === "ready" && s;
    }, "ready again");
    expect(back.port).toBe(port);
    expect(readFileSync(h.services.log("c1", "web").file, "utf8").match(/listening on/g)).toHaveLength(2);
  });

  it("drops a service, and its port, that the template no longer has", async () => {
    h = new ServicesHarness(RANGE);
    const cell = h.addCell("c1");
    await h.services.prepare(cell, template({ web: { run: "true" }, old: { run: "true" } }));
    expect(h.services.ports.forCell("c1").map((p) => p.service)).toEqual(["old", "web"]);
    await h.services.prepare(cell, template({ web: { run: "true" } }));
    expect(h.services.list("c1").map((s) => s.name)).toEqual(["web"]);
    expect(h.services.ports.forCell("c1").map((p) => p.service)).toEqual(["web"]);
  });
});
