import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ClientDevServer, startClientDevServer } from "../../server/transport/dev.ts";
import { startUrlOf } from "../browser/browser.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

describe("dev mode (npm run dev)", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let dev: ClientDevServer;

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
    dev = await startClientDevServer(hive.url);
  });

  afterAll(async () => {
    await dev?.close();
    await hive?.close();
    repo?.cleanup();
  });

  it("serves the app from its sources with hot reload on every app route", async () => {
    const res = await fetch(`${dev.url}/cells/some-cell`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/@vite/client");
    expect(html).toContain("<hive-app>");
  });

  it("forwards the API and sign-in to the running Hive", async () => {
    const api = await fetch(`${dev.url}/api/workspaces`, { headers: hive.headers });
    expect(api.status).toBe(200);
    expect((await api.json())[0].path).toBe(hive.hive.workspaces.list()[0]!.path);
    expect((await fetch(`${dev.url}/api/workspaces`)).status).toBe(401);

    const start = new URL(startUrlOf(hive));
    const signIn = await fetch(`${dev.url}${start.pathname}${start.search}`, { redirect: "manual" });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("set-cookie")).toBeTruthy();
  });

  it("forwards the socket", async () => {
    const ws = new WebSocket(`${dev.url.replace(/^http/, "ws")}/ws`, { headers: hive.headers });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send(JSON.stringify({ type: "subscribe", channel: "workspaces:all" })));
      ws.once("message", (d) => resolve(String(d)));
      ws.once("error", reject);
    });
    ws.close();
    expect(JSON.parse(first)).toMatchObject({ type: "snapshot", channel: "workspaces:all" });
  });
});
