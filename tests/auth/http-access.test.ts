import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { cookiePair, rawRequest, setCookieHeader } from "./request.ts";

let repo: TempRepo;
let hive: TestHive;
let token: string;
let cookieName: string;

beforeAll(async () => {
  repo = makeRepo();
  hive = await startHive(repo.path);
  token = hive.hive.auth.token();
  cookieName = hive.hive.auth.cookieName;
});
afterAll(async () => {
  await hive.close();
  repo.cleanup();
});

async function signIn(): Promise<string> {
  const res = await rawRequest(`${hive.url}/auth?token=${token}`);
  expect(res.status).toBe(303);
  return cookiePair(res, cookieName)!;
}

describe("access control over HTTP", () => {
  it("refuses the API without a cookie or token, saying how to sign in", async () => {
    const res = await rawRequest(`${hive.url}/api/workspaces`);
    expect(res.status).toBe(401);
    expect(res.json().error.code).toBe("UNAUTHORIZED");
    expect(res.json().error.message).toMatch(/open the link printed by `hive`/);
  });

  it("refuses every spelling of an API path without credentials", async () => {
    for (const path of ["/API/workspaces", "//api/workspaces", "/%61pi/workspaces", "/api", "/api/"]) {
      const res = await rawRequest(`${hive.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    const post = await rawRequest(`${hive.url}/api/cells`, { method: "POST", body: "{}" });
    expect(post.status).toBe(401);
  });

  it("refuses a bad bearer token", async () => {
    const res = await rawRequest(`${hive.url}/api/workspaces`, {
      headers: { authorization: `Bearer ${"x".repeat(43)}`, "x-test": "bad-bearer" },
    });
    expect(res.status).toBe(401);
    expect(res.json().error.message).toMatch(/not valid/);
  });

  it("accepts the token as a bearer token", async () => {
    const res = await rawRequest(`${hive.url}/api/workspaces`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toHaveLength(1);
  });

  it("trades the printed link for an HttpOnly SameSite=Strict cookie and redirects to the app", async () => {
    const res = await rawRequest(`${hive.url}/auth?token=${token}&next=//evil.example/`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    const set = setCookieHeader(res);
    expect(set).toMatch(new RegExp(`^${cookieName}=`));
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\//);
    expect(set).not.toMatch(/Secure/); // plain http on loopback
    expect(set).not.toContain(token);

    const api = await rawRequest(`${hive.url}/api/workspaces`, {
      headers: { cookie: cookiePair(res, cookieName)! },
    });
    expect(api.status).toBe(200);
  });

  it("signs scripts in with POST /api/auth/login and validates the body", async () => {
    const ok = await rawRequest(`${hive.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ via: "cookie", sessionId: expect.any(String) });
    const cookie = cookiePair(ok, cookieName)!;
    const me = await rawRequest(`${hive.url}/api/auth/me`, { headers: { cookie } });
    expect(me.json()).toEqual({ via: "cookie", sessionId: ok.json().sessionId });

    const bad = await rawRequest(`${hive.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: 42 }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json().error.message).toMatch(/body\.token/);
  });

  it("refuses a Host name it does not serve (DNS rebinding)", async () => {
    const port = new URL(hive.url).port;
    for (const host of [
      `attacker.example:${port}`,
      `localhost.attacker.example:${port}`,
      `evil@localhost:${port}`,
    ]) {
      const res = await rawRequest(`${hive.url}/api/workspaces`, {
        headers: { host, authorization: `Bearer ${token}` },
      });
      expect(res.status, host).toBe(403);
      expect(res.json().error.code).toBe("FORBIDDEN");
    }
    // Static pages too: a rebound page must not even load the app.
    const page = await rawRequest(`${hive.url}/`, { headers: { host: `attacker.example:${port}` } });
    expect(page.status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) {
      const res = await rawRequest(`${hive.url}/api/workspaces`, {
        headers: { host, authorization: `Bearer ${token}` },
      });
      expect(res.status, host).toBe(200);
    }
  });

  it("refuses a state-changing request from a foreign page origin, even with a valid cookie", async () => {
    const cookie = await signIn();
    const port = new URL(hive.url).port;
    for (const origin of ["http://evil.example", "http://127.0.0.1:5173", "null"]) {
      const res = await rawRequest(`${hive.url}/api/workspaces`, {
        method: "POST",
        headers: { cookie, origin, "content-type": "application/json" },
        body: JSON.stringify({ path: repo.path }),
      });
      expect(res.status, origin).toBe(403);
      expect(res.json().error.message).toMatch(/--allow-origin/);
    }
    const same = await rawRequest(`${hive.url}/api/workspaces`, {
      method: "POST",
      headers: { cookie, origin: `http://127.0.0.1:${port}`, "content-type": "application/json" },
      body: JSON.stringify({ path: repo.path }),
    });
    expect(same.status).not.toBe(403);
  });

  it("serves the client's static pages without sign-in", async () => {
    const res = await rawRequest(`${hive.url}/cells/abc`);
    expect(res.status).not.toBe(401);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    const api = await rawRequest(`${hive.url}/api/workspaces`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.headers["content-security-policy"]).toBe("frame-ancestors 'self'");
    expect(api.headers["cross-origin-resource-policy"]).toBe("same-origin");
  });

  it("lists sessions with the current one marked, and revokes one", async () => {
    const mine = await signIn();
    const other = await signIn();
    const list = await rawRequest(`${hive.url}/api/auth/sessions`, { headers: { cookie: mine } });
    expect(list.status).toBe(200);
    const sessions = list.json().sessions as { id: string; current: boolean; userAgent: string | null }[];
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const me = (await rawRequest(`${hive.url}/api/auth/me`, { headers: { cookie: mine } })).json();
    const otherId = (await rawRequest(`${hive.url}/api/auth/me`, { headers: { cookie: other } })).json()
      .sessionId;
    expect(sessions.find((s) => s.current)!.id).toBe(me.sessionId);
    expect(sessions.map((s) => s.id)).toContain(otherId);

    const revoked: string[] = [];
    const off = hive.hive.bus.on("auth.session.revoked", (e) => revoked.push(e.sessionId));
    const del = await rawRequest(`${hive.url}/api/auth/sessions/${otherId}`, {
      method: "DELETE",
      headers: { cookie: mine },
    });
    off();
    expect(del.status).toBe(204);
    expect(revoked).toEqual([otherId]);

    const refused = await rawRequest(`${hive.url}/api/workspaces`, { headers: { cookie: other } });
    expect(refused.status).toBe(401);
    expect(refused.json().error.message).toMatch(/expired or was revoked/);
    expect(setCookieHeader(refused)).toMatch(/Max-Age=0/);
    expect((await rawRequest(`${hive.url}/api/workspaces`, { headers: { cookie: mine } })).status).toBe(200);

    const again = await rawRequest(`${hive.url}/api/auth/sessions/${otherId}`, {
      method: "DELETE",
      headers: { cookie: mine },
    });
    expect(again.status).toBe(404);
    const badId = await rawRequest(`${hive.url}/api/auth/sessions/..%2F..`, {
      method: "DELETE",
      headers: { cookie: mine },
    });
    expect(badId.status).toBe(400);
  });

  it("signs out with POST /api/auth/logout", async () => {
    const cookie = await signIn();
    const out = await rawRequest(`${hive.url}/api/auth/logout`, { method: "POST", headers: { cookie } });
    expect(out.status).toBe(204);
    expect(setCookieHeader(out)).toMatch(/Max-Age=0/);
    expect((await rawRequest(`${hive.url}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
  });

  it("says what was wrong with a sign-in link, in plain words", async () => {
    const none = await rawRequest(`${hive.url}/auth`);
    expect(none.status).toBe(400);
    expect(none.headers["content-type"]).toMatch(/text\/plain/);
    expect(none.body).toMatch(/no token/);
  });
});
