import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_FLAGS, chromiumPath, launchBrowser, startUrlOf } from "../browser/browser.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

/**
 * A real Chromium, signed in to Hive, visiting hostile pages: one on another port of the same host
 * (a cell's dev server is exactly that: same-site, so the SameSite=Strict cookie goes along), and
 * one under a DNS name re-pointed at 127.0.0.1 (rebinding, simulated with --host-resolver-rules).
 */
describe("a signed-in browser visiting hostile pages", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;
  let foreign: Server;
  let foreignUrl: string;

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
    browser = await launchBrowser();
    foreign = createServer((_req, res) => res.end("<!doctype html><title>dev server</title><p>hi</p>"));
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await hive?.close();
    repo?.cleanup();
  });

  it("cannot open Hive's socket or change anything from another port of the same host", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(startUrlOf(hive));
    const cookies = await context.cookies(hive.url);
    expect(cookies.map((c) => c.name)).toContain(hive.hive.auth.cookieName);
    const sessionsBefore = (await hive.api("GET", "/api/auth/sessions")).body.sessions.length;

    await page.goto(foreignUrl);
    const wsUrl = `${hive.url.replace(/^http/, "ws")}/ws`;
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve("open");
          ws.onclose = (e) => resolve(`closed ${e.code}`);
        }),
      wsUrl,
    );
    expect(outcome).toBe("closed 1006");

    // A no-cors POST is sent with the cookie (same-site); the Origin check must refuse it.
    await page.evaluate(
      // It rejects in the page either way (Cross-Origin-Resource-Policy); what counts is the server's answer.
      (url) => fetch(url, { method: "POST", mode: "no-cors", credentials: "include" }).catch(() => undefined),
      `${hive.url}/api/auth/logout`,
    );
    const sessionsAfter = (await hive.api("GET", "/api/auth/sessions")).body.sessions.length;
    expect(sessionsAfter).toBe(sessionsBefore);

    // Reading the API cross-origin is blocked by the browser (no CORS headers are ever sent).
    const read = await page.evaluate(
      (url) =>
        fetch(url, { credentials: "include" }).then(
          () => "read",
          () => "blocked",
        ),
      `${hive.url}/api/workspaces`,
    );
    expect(read).toBe("blocked");
    await context.close();
  });

  it("tells a tab of Hive's own origin without a session why its socket closed", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${hive.url}/`);
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onclose = (e) => resolve(`${e.code} ${e.reason}`);
        }),
      `${hive.url.replace(/^http/, "ws")}/ws`,
    );
    expect(outcome).toMatch(/^4401 Not signed in/);
    await context.close();
  });

  it("refuses a page whose DNS name was rebound to 127.0.0.1", async () => {
    const port = new URL(hive.url).port;
    const rebinding = await chromium.launch({
      executablePath: chromiumPath(),
      args: [...CHROMIUM_FLAGS, "--host-resolver-rules=MAP attacker.test 127.0.0.1"],
      headless: true,
    });
    try {
      const page = await rebinding.newPage();
      const res = await page.goto(`http://attacker.test:${port}/`);
      expect(res?.status()).toBe(403);
      const api = await page.evaluate(
        (p) => fetch(`http://attacker.test:${p}/api/workspaces`).then((r) => r.status),
        port,
      );
      expect(api).toBe(403);
    } finally {
      await rebinding.close();
    }
  });
});
