import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { rawRequest } from "./request.ts";

/** The sign-in endpoints: the only routes that answer without credentials (besides the app's pages). */
const PUBLIC = new Set(["GET /auth", "POST /api/auth/login"]);

interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route the app registers, as [METHOD, sample path, route]; a route added later is covered by itself. */
function routesOf(app: Express): [string, string, string][] {
  const out: [string, string, string][] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.handle?.stack) walk(layer.handle.stack);
      if (!layer.route) continue;
      const { path, methods } = layer.route;
      const samples =
        typeof path === "string"
          ? [path.replace(/:[A-Za-z]+/g, "x1")]
          : ["/cells/x1", "/cells/x1/proxy/web/", "/cells/x1/proxy/web"]
              .filter((p) => path.test(p))
              .slice(0, 1);
      const verbs = Object.keys(methods).flatMap((m) => (m === "_all" ? ["get", "post"] : [m]));
      for (const sample of samples)
        for (const verb of verbs) out.push([verb.toUpperCase(), sample, String(path)]);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

describe("every route", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let routes: [string, string, string][];

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
    routes = routesOf(hive.hive.app);
  });
  afterAll(async () => {
    await hive.close();
    repo.cleanup();
  });

  it("refuses a request without credentials, except sign-in and the app's own pages", async () => {
    expect(routes.length).toBeGreaterThan(20);
    const open: string[] = [];
    for (const [method, path, route] of routes) {
      if (PUBLIC.has(`${method} ${route}`)) continue;
      const res = await rawRequest(`${hive.url}${path}`, {
        method,
        headers: { "content-type": "application/json", accept: "application/json" },
        body: method === "GET" || method === "HEAD" ? undefined : "{}",
      });
      if (res.status !== 401) open.push(`${method} ${route}`);
    }
    // The catch-all of the app's pages is the one route that answers (it serves index.html, no data).
    expect(open).toEqual(["GET /.*/"]);
  });

  it("refuses a state-changing request from a foreign origin on every route, even signed in", async () => {
    const changed: string[] = [];
    for (const [method, path] of routes) {
      if (method === "GET" || method === "HEAD") continue;
      const res = await rawRequest(`${hive.url}${path}`, {
        method,
        headers: { ...hive.headers, origin: "http://127.0.0.1:1", "content-type": "application/json" },
        body: "{}",
      });
      if (res.status !== 403) changed.push(`${method} ${path} -> ${res.status}`);
    }
    expect(changed).toEqual([]);
  });
});
