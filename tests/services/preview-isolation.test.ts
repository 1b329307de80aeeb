import type { IncomingMessage, ServerResponse } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Renamed: page.evaluate's functions use the browser's own WebSocket.
import { WebSocket as NodeWebSocket } from "ws";
import { rawRequest } from "../auth/request.ts";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { serviceCommand } from "./harness.ts";

type ProbeResults = Record<string, string | number>;

/**
 * A service's page, opened through Hive's proxy in a real Chromium signed in to Hive, runs script that
 * tries to act as the user (read and change cells, open Hive's socket) while using its own service.
 * The fixture's /probe page does both and reports in window.results.
 */
describe("service previews cannot act as the user", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let page: Page;
  let cellId: string;
  /** Each request Hive served (and each socket upgrade it saw): what came with it and the answer. */
  const answered: string[] = [];

  beforeAll(async () => {
    repo = makeRepo();
    repo.writeConfig({
      templates: [
        {
          id: "site",
          label: "Site",
          services: {
            web: { run: serviceCommand("--name web"), readyPattern: "listening on" },
            api: { run: serviceCommand("--name api"), readyPattern: "listening on" },
          },
        },
      ],
    });
    repo.commit("config");
    hive = await startHive(repo.path);
    const created = await hive.api("POST", "/api/cells", {
      workspaceId: hive.workspaceId,
      templateId: "site",
      name: "site",
    });
    expect(created.status).toBe(201);
    cellId = created.body.id;
    await hive.waitForCell(cellId, (c) => c?.status === "ready" || c?.status === "error", 60_000);
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(hive));
    const seen = (req: IncomingMessage) => {
      const cookie = req.headers.cookie?.includes(hive.hive.auth.cookieName) ? "cookie" : "no cookie";
      // Requests on a preview's own origin name it.
      const on = req.headers.host?.includes("--") ? `@${req.headers.host}` : "";
      return `${req.method} ${req.url?.split("?")[0]}${on} origin=${req.headers.origin} ${cookie}`;
    };
    // First in line: the proxy rewrites req.url for the service.
    hive.hive.server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
      const what = seen(req);
      res.on("finish", () => answered.push(`${what} ${res.statusCode}`));
    });
    hive.hive.server.prependListener("upgrade", (req: IncomingMessage) =>
      answered.push(`${seen(req)} upgrade`),
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
  });

  const cellCount = async () => ((await hive.api("GET", "/api/cells")).body as unknown[]).length;

  it("the same browser, on Hive's own page, can use the API and the socket (the cookie is live)", async () => {
    const outcome = await page.evaluate(async () => {
      const api = (await fetch("/api/cells")).status;
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        ws.onopen = () => {
          resolve("open");
          ws.close();
        };
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      });
      return { api, socket };
    });
    expect(outcome).toEqual({ api: 200, socket: "open" });
  });

  it("renders the page and its own requests work, while its requests to Hive's API and socket fail", async () => {
    const before = await cellCount();
    answered.length = 0;
    const query = new URLSearchParams({
      ws: hive.workspaceId,
      t: "site",
      other: `/cells/${cellId}/proxy/api/data`,
    });
    await page.goto(`${hive.url}/cells/${cellId}/proxy/web/probe?${query}`);
    // Sent on to the preview's own prefix, which carries the capability its requests need.
    expect(new URL(page.url()).pathname).toMatch(
      new RegExp(`^/cells/${cellId}/proxy/web/~[a-z0-9]+\\.[A-Za-z0-9_-]{43}/probe$`),
    );
    expect(await page.locator("h1").textContent()).toBe("probe page");
    await page.waitForFunction(() => document.title === "done", undefined, { timeout: 30_000 });
    const results = (await page.evaluate("window.results")) as ProbeResults;

    expect(results.origin).toBe("null");
    // The price of the opaque origin (see SERVICES.md); the own-origin preview below has it.
    expect(results.storage).toMatch(/^failed/);
    expect(results.image).toBe("loaded");
    expect(results.ownGet).toBe("200 web GET /data?x=1  cookie=none");
    expect(results.ownPost).toBe('200 web POST /data {"n":1} cookie=none');
    expect(results.ownSocket).toBe("message echo:hi");

    expect(results.apiGet).toMatch(/^failed/);
    expect(results.apiPost).toMatch(/^failed/);
    expect(results.apiPostNoCors).toMatch(/^failed/);
    expect(results.otherService).toMatch(/^failed/);
    expect(results.hiveSocket).toBe("closed 1006");
    // What Hive saw and answered, whatever the page could read of it: Origin "null", never the cookie.
    // (The JSON POST stops at its preflight; the no-cors one is sent and refused.)
    // (Hive's own tab may still have requests of its own in flight: those carry no "null".)
    const toHive = answered.filter(
      (a) => a.includes("origin=null") && (/ \/(api|ws)\b/.test(a) || a.includes("/proxy/api/")),
    );
    expect(toHive).toEqual([
      "GET /api/cells origin=null no cookie 401",
      "OPTIONS /api/cells origin=null no cookie 401",
      "POST /api/cells origin=null no cookie 403",
      `GET /cells/${cellId}/proxy/api/data origin=null no cookie 401`,
      "GET /ws origin=null no cookie upgrade",
    ]);
    // Only the navigation the person made (from the address bar) carried it, redirect included.
    const withCookie = answered.filter((a) => a.includes("/proxy/") && / origin=\S+ cookie /.test(a));
    expect(withCookie.map((a) => a.replace(/~[^/]+/, "~cap"))).toEqual([
      `GET /cells/${cellId}/proxy/web/probe origin=undefined cookie 307`,
      `GET /cells/${cellId}/proxy/web/~cap/probe origin=undefined cookie 200`,
    ]);
    expect(await cellCount()).toBe(before);
  });

  it("on its own origin (<cell>--<service>.localhost) a preview keeps storage and still cannot act as the user", async () => {
    const port = new URL(hive.url).port;
    const own = await signedInPage(browser, hive.hive.auth.startUrl(Number(port)));
    const link = await own.evaluate(async (path) => {
      const r = await fetch(path, { method: "POST" });
      return { status: r.status, body: await r.json() };
    }, `/api/cells/${cellId}/services/web/preview-link`);
    expect(link.status).toBe(200);
    const origin = `http://${cellId}--web.localhost:${port}`;
    expect(link.body.url).toMatch(new RegExp(`^${origin}/__hive/preview-sign-in\\?grant=`));

    await own.goto(link.body.url);
    expect(own.url()).toBe(`${origin}/`);
    // The link works once.
    const again = await rawRequest(link.body.url.replace(origin, hive.url), {
      headers: { host: `${cellId}--web.localhost:${port}` },
    });
    expect(again.status).toBe(401);
    expect(await own.locator("h1").textContent()).toBe("hello from web");
    // Every path of that origin is the service's, /api included: Hive's own routes are not there.
    await own.goto(`${origin}/api/cells`);
    expect(await own.locator("p").textContent()).toBe("path /api/cells");

    answered.length = 0;
    const query = new URLSearchParams({
      hive: hive.url,
      ws: hive.workspaceId,
      t: "site",
      other: `http://${cellId}--api.localhost:${port}/data`,
    });
    await own.goto(`${origin}/probe?${query}`);
    await own.waitForFunction(() => document.title === "done", undefined, { timeout: 30_000 });
    const results = (await own.evaluate("window.results")) as ProbeResults;
    expect(results.origin).toBe(origin);
    expect(results.storage).toBe("v");
    expect(results.image).toBe("loaded");
    // The preview's cookie stays with Hive: the service sees none.
    expect(results.ownGet).toBe("200 web GET /data?x=1  cookie=none");
    expect(results.ownPost).toBe('200 web POST /data {"n":1} cookie=none');
    expect(results.ownSocket).toBe("message echo:hi");
    expect(results.apiGet).toMatch(/^failed/);
    expect(results.apiPost).toMatch(/^failed/);
    expect(results.apiPostNoCors).toMatch(/^failed/);
    expect(results.otherService).toMatch(/^failed/);
    expect(results.hiveSocket).toBe("closed 1006");
    const fromPreview = answered.filter(
      (a) => a.includes(`origin=${origin} `) && / \/(api|ws)\b(?!@)/.test(a),
    );
    expect(fromPreview).toEqual([
      `GET /api/cells origin=${origin} no cookie 401`,
      `OPTIONS /api/cells origin=${origin} no cookie 401`,
      `POST /api/cells origin=${origin} no cookie 403`,
      `GET /ws origin=${origin} no cookie upgrade`,
    ]);
    expect(answered).toContain(`GET /data@${cellId}--api.localhost:${port} origin=${origin} no cookie 401`);

    // Without the preview's cookie that origin serves nothing; a stale or forged grant does not sign in.
    const bare = await rawRequest(`${hive.url}/`, { headers: { host: `${cellId}--web.localhost:${port}` } });
    expect(bare.status).toBe(401);
    expect(bare.body).toContain("not signed in");
    const forged = await rawRequest(`${hive.url}/__hive/preview-sign-in?grant=x.1.y`, {
      headers: { host: `${cellId}--web.localhost:${port}` },
    });
    expect(forged.status).toBe(401);
    // Only a browser that reached Hive by a loopback name can follow such a link; only real services.
    const remote = await rawRequest(`${hive.url}/api/cells/${cellId}/services/web/preview-link`, {
      method: "POST",
      headers: { ...hive.headers, host: `10.9.8.7:${port}` },
    });
    expect(remote.status).toBe(400);
    expect(remote.json().error.message).toContain("needs Hive opened at localhost or 127.0.0.1");
    expect((await hive.api("POST", `/api/cells/${cellId}/services/nope/preview-link`)).status).toBe(404);
    await own.context().close();
  });

  it("a preview's capability opens only its own service and ends with the session", async () => {
    const path = new URL(page.url()).pathname;
    const capability = /\/~([^/]+)\//.exec(path)![1]!;
    const get = (p: string) => fetch(hive.url + p, { redirect: "manual" });

    const own = await get(`/cells/${cellId}/proxy/web/~${capability}/data`);
    expect(own.status).toBe(200);
    expect(own.headers.get("content-security-policy")).toBe(
      "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads",
    );
    expect((await get(`/cells/${cellId}/proxy/api/~${capability}/data`)).status).toBe(401);
    const forged = `${capability.split(".")[0]}.${"A".repeat(43)}`;
    expect((await get(`/cells/${cellId}/proxy/web/~${forged}/data`)).status).toBe(401);
    // Without the slash, relative links would leave the prefix.
    const bare = await get(`/cells/${cellId}/proxy/web/~${capability}`);
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe(`/cells/${cellId}/proxy/web/~${capability}/`);

    // The service's own policy stays, as a second one: it cannot lift the sandbox.
    const ownCsp = await get(`/cells/${cellId}/proxy/web/~${capability}/own-csp`);
    expect(ownCsp.headers.get("content-security-policy")).toBe(
      "sandbox allow-same-origin allow-scripts; script-src 'unsafe-inline', sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads",
    );
    await page.goto(`${hive.url}/cells/${cellId}/proxy/web/~${capability}/own-csp`);
    await expect.poll(() => page.title()).toBe("origin null");

    // A socket under a forged capability is refused before it reaches the service.
    const refused = await new Promise<number>((resolve) => {
      const ws = new NodeWebSocket(
        `${hive.url.replace("http", "ws")}/cells/${cellId}/proxy/web/~${forged}/ws`,
      );
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
    });
    expect(refused).toBe(401);

    // The entry path signed in by cookie checks Origin itself (the guard leaves proxy paths to it).
    const cookie = (await page.context().cookies(hive.url)).find(
      (c) => c.name === hive.hive.auth.cookieName,
    )!;
    const post = (origin: string) =>
      fetch(`${hive.url}/cells/${cellId}/proxy/web/data`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: `${cookie.name}=${cookie.value}`, origin },
        body: "x",
      });
    expect((await post("http://127.0.0.1:1")).status).toBe(403);
    const sameOrigin = await post(hive.url);
    expect(sameOrigin.status).toBe(307);
    expect(sameOrigin.headers.get("location")).toBe(`/cells/${cellId}/proxy/web/~${capability}/data`);

    // A forged or stale capability, reloaded by the person (cookie along): a fresh one.
    await page.goto(`${hive.url}/cells/${cellId}/proxy/web/~${forged}/`);
    expect(new URL(page.url()).pathname).toBe(`/cells/${cellId}/proxy/web/~${capability}/`);

    const sessionId = capability.split(".")[0]!;
    expect((await hive.api("DELETE", `/api/auth/sessions/${sessionId}`)).status).toBe(204);
    expect((await get(`/cells/${cellId}/proxy/web/~${capability}/data`)).status).toBe(401);
  });
});
