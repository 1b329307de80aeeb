import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PortAllocator, PortRepo } from "../../server/services/ports.ts";
import { ServicesHarness, serviceCommand, template } from "./harness.ts";

const RANGE: [number, number] = [23100, 23299];

describe("service ports", () => {
  let h: ServicesHarness;
  const held: Server[] = [];

  afterEach(async () => {
    for (const s of held.splice(0)) await new Promise((r) => s.close(r));
    await h?.close();
  });

  it("gives every service of 20 cells created at once its own port", async () => {
    h = new ServicesHarness(RANGE);
    const tpl = template({
      web: { run: serviceCommand(), ports: ["debug"] },
      db: { run: serviceCommand() },
    });
    const cells = Array.from({ length: 20 }, (_, i) => h.addCell(`cell${i}`));
    await Promise.all(cells.map((c) => h.services.prepare(c, tpl)));
    const all = cells.flatMap((c) => h.services.ports.forCell(c.id).map((p) => p.port));
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
    for (const p of all) expect(p).toBeGreaterThanOrEqual(RANGE[0]);
    const env = h.services.env("cell3");
    expect(Object.keys(env).sort()).toEqual([
      "HIVE_PORT_DB",
      "HIVE_PORT_WEB",
      "HIVE_PORT_WEB_DEBUG",
      "HIVE_URL_DB",
      "HIVE_URL_WEB",
    ]);
    expect(env.HIVE_URL_WEB).toBe(`http://127.0.0.1:${env.HIVE_PORT_WEB}`);
  });

  it("skips a port that something on the host already listens on", async () => {
    h = new ServicesHarness(RANGE);
    const busy = createServer();
    held.push(busy);
    await new Promise<void>((r) => busy.listen(RANGE[0], "127.0.0.1", r));
    const cell = h.addCell("c1");
    await h.services.prepare(cell, template({ web: { run: serviceCommand(), port: RANGE[0] } }));
    const [web] = h.services.ports.forCell("c1");
    expect(web!.port).not.toBe(RANGE[0]);
  });

  it("skips a port in use while scanning its range", async () => {
    h = new ServicesHarness([RANGE[0] + 10, RANGE[0] + 11]);
    const busy = createServer();
    held.push(busy);
    await new Promise<void>((r) => busy.listen(RANGE[0] + 10, "0.0.0.0", r));
    const cell = h.addCell("c1");
    await h.services.prepare(cell, template({ web: { run: serviceCommand() } }));
    expect(h.services.ports.forCell("c1")[0]!.port).toBe(RANGE[0] + 11);
  });

  it("tries the port a template asks for first", async () => {
    h = new ServicesHarness(RANGE);
    const cell = h.addCell("c1");
    await h.services.prepare(cell, template({ web: { run: serviceCommand(), port: RANGE[0] + 42 } }));
    expect(h.services.ports.forCell("c1")[0]!.port).toBe(RANGE[0] + 42);
  });

  it("keeps a cell's ports across a restart and gives them back when the cell is deleted", async () => {
    h = new ServicesHarness(RANGE);
    const tpl = template({ web: { run: serviceCommand() }, api: { run: serviceCommand() } });
    const cell = h.addCell("c1");
    await h.services.prepare(cell, tpl);
    const before = h.services.ports.forCell("c1");

    // A fresh allocator on the same database: what a restarted Hive has.
    const again = new PortAllocator(new PortRepo(h.db), { host: "127.0.0.1", range: RANGE });
    expect(
      await again.allocate("c1", [
        { service: "web", name: "" },
        { service: "api", name: "" },
      ]),
    ).toEqual(before);

    await h.services.teardown("c1", "delete");
    expect(h.services.ports.forCell("c1")).toEqual([]);
    h.addCell("c2");
    const reused = await h.services.ports.allocate(
      "c2",
      before.map((p) => ({ service: p.service, name: "", preferred: p.port })),
    );
    expect(reused.map((p) => p.port).sort()).toEqual(before.map((p) => p.port).sort());
  });

  it("says so when the range is used up", async () => {
    h = new ServicesHarness([RANGE[0], RANGE[0] + 1]);
    const cell = h.addCell("c1");
    await expect(
      h.services.prepare(cell, template({ a: { run: "true" }, b: { run: "true" }, c: { run: "true" } })),
    ).rejects.toThrow(/no free port left in 23100-23101/);
  });
});
