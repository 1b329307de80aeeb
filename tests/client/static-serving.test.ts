import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_DIST,
  clientBuildIsStale,
  ensureClientBuilt,
  staticRoutes,
} from "../../server/transport/static.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

describe("serving the built web app", () => {
  let repo: TempRepo;
  let hive: TestHive;

  // `npm test` builds the client first; run on its own with changed sources, this builds it, which on two
  // cores shared with the other test files took over a minute.
  beforeAll(async () => {
    await ensureClientBuilt(() => {});
    repo = makeRepo();
    hive = await startHive(repo.path);
  }, 240_000);

  afterAll(async () => {
    await hive?.close();
    repo?.cleanup();
  });

  it("answers every app route with index.html, without a session, so a reload lands on the same screen", async () => {
    for (const path of ["/", "/cells/abc", "/workspaces/w1/new", "/timings?cell=x"]) {
      const res = await fetch(hive.url + path, { headers: { accept: "text/html" } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(await res.text()).toContain("<hive-app>");
    }
  });

  it("never shadows the API or sign-in with the app", async () => {
    const api = await fetch(`${hive.url}/api/no-such-route`, {
      headers: { ...hive.headers, accept: "text/html" },
    });
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe("NOT_FOUND");
    const unsigned = await fetch(`${hive.url}/api/workspaces`, { headers: { accept: "text/html" } });
    expect(unsigned.status).toBe(401);
  });

  it("serves hashed assets to be cached for good", async () => {
    const asset = readdirSync(join(CLIENT_DIST, "assets")).find((f) => f.endsWith(".js"))!;
    const res = await fetch(`${hive.url}/assets/${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${hive.url}/assets/missing-1234.js`)).status).toBe(404);
  });
});

describe("before the first build", () => {
  it("answers app routes with a page that says the app is being built and reloads itself", async () => {
    const dir = tempDir("hive-nodist-");
    const app = express().use(staticRoutes(dir));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/cells/x`, {
        headers: { accept: "text/html" },
      });
      expect(res.status).toBe(503);
      const html = await res.text();
      expect(html).toContain("building its web app");
      expect(html).toContain('http-equiv="refresh"');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deciding whether the app must be built", () => {
  it("builds when the build is missing or older than its sources, not otherwise", (ctx) => {
    const dir = tempDir("hive-static-");
    ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const dist = join(dir, "dist");
    const src = join(dir, "client");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "main.ts"), "export {};\n");
    expect(clientBuildIsStale(dist, [src])).toBe(true);

    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, "index.html"), "<html></html>");
    const now = Date.now() / 1000;
    utimesSync(join(src, "main.ts"), now - 100, now - 100);
    utimesSync(join(dist, "index.html"), now - 50, now - 50);
    expect(clientBuildIsStale(dist, [src])).toBe(false);

    utimesSync(join(src, "main.ts"), now, now);
    expect(clientBuildIsStale(dist, [src])).toBe(true);
    // An installed package has the build and no sources: it is served as it is.
    expect(clientBuildIsStale(dist, [join(dir, "no-sources")])).toBe(false);
  });
});
