import { spawn } from "node:child_process";
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHive } from "../../server/app.ts";
import { homeLayout } from "../../server/home/home.ts";
import { tokenFile } from "../../server/transport/token.ts";
import { makeRepo, type TempRepo, tempDir } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { cookiePair, rawRequest, setCookieHeader } from "./request.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function repo(): TempRepo {
  const r = makeRepo();
  cleanups.push(() => r.cleanup());
  return r;
}

async function hiveOn(options: Parameters<typeof startHive>[1] = {}): Promise<TestHive> {
  const h = await startHive(repo().path, options);
  cleanups.push(() => h.close());
  return h;
}

async function signIn(h: TestHive, token = h.hive.auth.token()): Promise<string> {
  const res = await rawRequest(`${h.url}/auth?token=${token}`);
  expect(res.status).toBe(303);
  return cookiePair(res, h.hive.auth.cookieName)!;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("tokens and sessions", () => {
  it("rate limits failed sign-ins per client address, then refuses even the right token", async () => {
    const h = await hiveOn();
    const wrong = "A".repeat(43);
    for (let i = 0; i < 5; i++) {
      const res = await rawRequest(`${h.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: wrong }),
      });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    const limited = await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(h.hive.auth.token()) });
    expect(limited.status).toBe(429);
    expect(limited.json().error.code).toBe("RATE_LIMITED");
    expect(limited.json().error.message).toMatch(
      /Too many failed sign-in attempts from 127\.0\.0\.1: wait \d+ s/,
    );
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    const link = await rawRequest(`${h.url}/auth?token=${h.hive.auth.token()}`);
    expect(link.status).toBe(429);
    expect(link.body).toMatch(/Too many failed sign-in attempts/);
  });

  it("rotation invalidates the old token and every session, and closes their sockets", async () => {
    const h = await hiveOn();
    const old = h.hive.auth.token();
    const cookie = await signIn(h);
    const revoked: string[] = [];
    cleanups.push(h.hive.bus.on("auth.session.revoked", (e) => revoked.push(e.sessionId)));
    const sessionId = (await rawRequest(`${h.url}/api/auth/me`, { headers: { cookie } })).json().sessionId;

    const fresh = h.hive.auth.rotate();
    expect(fresh).not.toBe(old);
    expect(revoked).toEqual(expect.arrayContaining([sessionId, "token"]));
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(old) })).status).toBe(401);
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: { cookie } })).status).toBe(401);
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(fresh) })).status).toBe(200);
  });

  it("`hive token --rotate` from another process takes effect on the running server", async () => {
    const h = await hiveOn();
    const old = h.hive.auth.token();
    const cookie = await signIn(h);
    const sessionId = (await rawRequest(`${h.url}/api/auth/me`, { headers: { cookie } })).json().sessionId;
    const revoked = new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      cleanups.push(
        h.hive.bus.on("auth.session.revoked", (e) => {
          seen.push(e.sessionId);
          if (seen.includes("token")) resolve(seen);
        }),
      );
    });

    const out = await runCli(["token", "--rotate", "--home", h.home]);
    expect(out.code).toBe(0);
    const fresh = out.stdout.trim();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out.stderr).toMatch(/every session is signed out/);

    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(old) })).status).toBe(401);
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: { cookie } })).status).toBe(401);
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(fresh) })).status).toBe(200);
    // The server learns of it by watching the token file, then closes the sessions' sockets.
    expect(await revoked).toContain(sessionId);
  });

  it("makes a new token when the token file is deleted under a running server", async () => {
    const h = await hiveOn();
    const old = h.hive.auth.token();
    rmSync(tokenFile(homeLayout(h.home)));
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(old) })).status).toBe(401);
    const fresh = h.hive.auth.token();
    expect(fresh).not.toBe(old);
    expect((await rawRequest(`${h.url}/api/workspaces`, { headers: bearer(fresh) })).status).toBe(200);
  });

  it("keeps the token and sessions across a restart, in a 0600 file and hashed in the database", async () => {
    const home = tempDir("hive-home-");
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const r = repo();
    const first = await startHive(r.path, { home });
    const token = first.hive.auth.token();
    const cookie = await signIn(first);
    const sessionId = (await rawRequest(`${first.url}/api/auth/me`, { headers: { cookie } })).json()
      .sessionId;
    await first.close();

    const file = tokenFile(homeLayout(home));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(token);
    const secret = cookie.split("=")[1]!;
    const db = readFileSync(join(home, "state", "hive.db"));
    expect(db.includes(Buffer.from(sessionId))).toBe(true);
    expect(db.includes(Buffer.from(secret))).toBe(false);

    const second = await startHive(r.path, { home });
    cleanups.push(() => second.close());
    expect(second.hive.auth.token()).toBe(token);
    expect((await rawRequest(`${second.url}/api/workspaces`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses --no-auth on an address others can reach, in one sentence", async () => {
    const home = tempDir("hive-home-");
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const r = repo();
    for (const host of ["0.0.0.0", "::", "192.168.1.20"]) {
      await expect(createHive({ home, host, port: 0, workspaces: [r.path], auth: false })).rejects.toThrow(
        /Refusing to start with --no-auth on .*: anyone who can reach that address would get your shells/,
      );
    }
    const cli = await runCli([
      "--host",
      "0.0.0.0",
      "--no-auth",
      "--port",
      "0",
      "--home",
      home,
      "--workspace",
      r.path,
    ]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(
      /^hive: Refusing to start with --no-auth on 0\.0\.0\.0: .*drop --no-auth\.\n$/,
    );
  });

  it("runs open with --no-auth on loopback, still refusing foreign Host names", async () => {
    const h = await hiveOn({ auth: false });
    expect(h.hive.auth.startUrl(4860)).toBe("http://127.0.0.1:4860/");
    expect((await rawRequest(`${h.url}/api/workspaces`)).status).toBe(200);
    const rebound = await rawRequest(`${h.url}/api/workspaces`, { headers: { host: "attacker.example" } });
    expect(rebound.status).toBe(403);
  });

  it("marks the cookie Secure behind a trusted https proxy only, and rate limits the proxied client", async () => {
    const plain = await hiveOn();
    const spoofed = await rawRequest(`${plain.url}/auth?token=${plain.hive.auth.token()}`, {
      headers: { "x-forwarded-proto": "https" },
    });
    expect(setCookieHeader(spoofed)).not.toMatch(/Secure/);

    const proxied = await hiveOn({ trustProxy: true, allowOrigins: ["https://hive.example.com"] });
    const res = await rawRequest(`${proxied.url}/auth?token=${proxied.hive.auth.token()}`, {
      headers: { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9", host: "hive.example.com" },
    });
    expect(res.status).toBe(303);
    expect(setCookieHeader(res)).toMatch(/; Secure/);
    for (let i = 0; i < 5; i++) {
      await rawRequest(`${proxied.url}/api/workspaces`, {
        headers: { ...bearer("B".repeat(43)), "x-forwarded-for": "203.0.113.9" },
      });
    }
    const limited = await rawRequest(`${proxied.url}/api/workspaces`, {
      headers: { ...bearer(proxied.hive.auth.token()), "x-forwarded-for": "203.0.113.9" },
    });
    expect(limited.status).toBe(429);
    const otherClient = await rawRequest(`${proxied.url}/api/workspaces`, {
      headers: { ...bearer(proxied.hive.auth.token()), "x-forwarded-for": "198.51.100.7" },
    });
    expect(otherClient.status).toBe(200);
  });
});

const BIN = join(import.meta.dirname, "..", "..", "bin", "hive.js");

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
