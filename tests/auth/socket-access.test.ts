import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CLOSE_CODES } from "../../shared/protocol.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { cookiePair, rawRequest } from "./request.ts";

let repo: TempRepo;
let h: TestHive;
let wsUrl: string;
let origin: string;

beforeAll(async () => {
  repo = makeRepo();
  h = await startHive(repo.path);
  wsUrl = `${h.url.replace(/^http/, "ws")}/ws`;
  origin = h.url;
});
afterAll(async () => {
  await h.close();
  repo.cleanup();
});

/** Opens the socket as a browser would (with Origin); fails if it is refused. */
function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin, ...headers } });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/**
 * How a refused attempt ends: `code` is the HTTP status of a refused upgrade (Host, Origin, rate
 * limit: no socket for those), or the close code of a socket closed at once (no session: a browser
 * can read a close code, never a refused upgrade's status).
 */
function refusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin, ...headers } });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () =>
        resolve({ code: res.statusCode ?? 0, message: body && JSON.parse(body).error.message }),
      );
    });
    ws.once("close", (code, reason) => resolve({ code, message: reason.toString() }));
    ws.once("error", reject);
  });
}

async function signIn(): Promise<{ cookie: string; sessionId: string }> {
  const res = await rawRequest(`${h.url}/auth?token=${h.hive.auth.token()}`);
  const cookie = cookiePair(res, h.hive.auth.cookieName)!;
  const me = await rawRequest(`${h.url}/api/auth/me`, { headers: { cookie } });
  return { cookie, sessionId: me.json().sessionId };
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

async function pingPong(ws: WebSocket): Promise<unknown> {
  const reply = new Promise((resolve) => ws.once("message", (d) => resolve(JSON.parse(d.toString()))));
  ws.send(JSON.stringify({ type: "ping", t: 7 }));
  return reply;
}

describe("access control on the /ws upgrade", () => {
  it("refuses a socket without a cookie, saying how to sign in", async () => {
    const r = await refusal(wsUrl);
    expect(r.code).toBe(CLOSE_CODES.unauthorized);
    expect(r.message).toMatch(/Not signed in: open the link printed by hive/);
  });

  it("refuses a bad token", async () => {
    const r = await refusal(`${wsUrl}?token=${"Z".repeat(43)}`);
    expect(r.code).toBe(CLOSE_CODES.unauthorized);
  });

  it("opens with the session cookie, and with the token once in the URL", async () => {
    const { cookie } = await signIn();
    const byCookie = await connect(wsUrl, { cookie });
    expect(await pingPong(byCookie)).toEqual({ type: "pong", t: 7 });
    byCookie.close();
    const byToken = await connect(`${wsUrl}?token=${h.hive.auth.token()}`);
    expect(await pingPong(byToken)).toEqual({ type: "pong", t: 7 });
    byToken.close();
  });

  it("refuses a foreign Origin even with a valid cookie", async () => {
    const { cookie } = await signIn();
    const port = new URL(h.url).port;
    for (const foreign of ["http://evil.example", `http://localhost:${Number(port) + 1}`, "null"]) {
      const r = await refusal(wsUrl, { cookie, origin: foreign });
      expect(r.code, foreign).toBe(403);
      expect(r.message).toMatch(/--allow-origin/);
    }
  });

  it("refuses a rebinding Host even with a valid cookie", async () => {
    const { cookie } = await signIn();
    const host = `attacker.example:${new URL(h.url).port}`;
    const r = await refusal(wsUrl, { cookie, host, origin: `http://${host}` });
    expect(r.code).toBe(403);
    expect(r.message).toMatch(/host name 'attacker\.example/);
  });

  it("answers upgrades on other paths with 404", async () => {
    const { cookie } = await signIn();
    const r = await refusal(wsUrl.replace(/\/ws$/, "/api/ws"), { cookie });
    expect(r.code).toBe(404);
  });

  it("closes the socket of a revoked session, and only that one", async () => {
    const victim = await signIn();
    const bystander = await signIn();
    const a = await connect(wsUrl, { cookie: victim.cookie });
    const b = await connect(wsUrl, { cookie: bystander.cookie });
    const aClosed = closed(a);
    const del = await rawRequest(`${h.url}/api/auth/sessions/${victim.sessionId}`, {
      method: "DELETE",
      headers: { cookie: bystander.cookie, origin },
    });
    expect(del.status).toBe(204);
    expect((await aClosed).code).toBe(CLOSE_CODES.sessionRevoked);
    expect(await pingPong(b)).toEqual({ type: "pong", t: 7 });
    b.close();
    // And the revoked cookie cannot open a new one.
    expect((await refusal(wsUrl, { cookie: victim.cookie })).code).toBe(CLOSE_CODES.unauthorized);
  });

  it("closes every session's socket and token-opened sockets when the token rotates", async () => {
    const { cookie } = await signIn();
    const bySession = await connect(wsUrl, { cookie });
    const byToken = await connect(`${wsUrl}?token=${h.hive.auth.token()}`);
    const both = Promise.all([closed(bySession), closed(byToken)]);
    h.hive.auth.rotate();
    expect((await both).map((c) => c.code)).toEqual([CLOSE_CODES.sessionRevoked, CLOSE_CODES.sessionRevoked]);
    const fresh = await connect(`${wsUrl}?token=${h.hive.auth.token()}`);
    // The token file watcher (polling once a second) must not take the rotation for a second one.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await pingPong(fresh)).toEqual({ type: "pong", t: 7 });
    fresh.close();
  });

  it("rate limits failed socket sign-ins", async () => {
    // Earlier tests in this file already spent one of the address's five failures.
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await refusal(`${wsUrl}?token=${"Y".repeat(43)}`)).code);
    const closed = CLOSE_CODES.unauthorized;
    expect(codes).toEqual([closed, closed, closed, closed, 429]);
    const r = await refusal(`${wsUrl}?token=${h.hive.auth.token()}`);
    expect(r.code).toBe(429);
    expect(r.message).toMatch(/Too many failed sign-in attempts/);
  });
});
