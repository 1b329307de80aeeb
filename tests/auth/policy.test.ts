import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { openDb } from "../../server/db/connection.ts";
import { HostPolicy, isLoopbackHost } from "../../server/transport/host-policy.ts";
import { FailureLimiter } from "../../server/transport/rate-limit.ts";
import { SESSION_IDLE_MS, SessionStore } from "../../server/transport/sessions.ts";
import { tempDir } from "../helpers/repo.ts";

const policy = (bindHost: string, allowOrigins: string[] = []) =>
  new HostPolicy({ bindHost, allowOrigins, trustProxy: false });

describe("host names and origins", () => {
  it("knows loopback addresses from reachable ones", () => {
    for (const h of ["127.0.0.1", "127.3.2.1", "localhost", "::1", "[::1]"])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "", "192.168.1.2", "example.com", "127.0.0.1.nip.io"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it("answers loopback names and IP literals, and the machine's name only when reachable from outside", () => {
    const local = policy("127.0.0.1");
    for (const h of ["localhost:4860", "127.0.0.1:4860", "[::1]:4860", "10.0.0.5", "localhost."]) {
      expect(local.hostAllowed(h), h).toBe(true);
    }
    for (const h of [
      undefined,
      "",
      "attacker.example",
      "localhost.attacker.example",
      "a@localhost",
      "localhost/x",
    ]) {
      expect(local.hostAllowed(h), String(h)).toBe(false);
    }
    const own = hostname().toLowerCase();
    if (own !== "localhost") expect(local.hostAllowed(own)).toBe(false);
    expect(policy("0.0.0.0").hostAllowed(`${own}:4860`)).toBe(true);
    expect(policy("devbox.lan").hostAllowed("devbox.lan:4860")).toBe(true);
    expect(policy("127.0.0.1", ["https://hive.example.com"]).hostAllowed("hive.example.com")).toBe(true);
  });

  it("allows the page's own origin, --allow-origin values and non-browser clients; nothing else", () => {
    const p = policy("127.0.0.1", ["https://hive.example.com/"]);
    expect(p.originAllowed(undefined, "127.0.0.1:4860")).toBe(true);
    expect(p.originAllowed("http://127.0.0.1:4860", "127.0.0.1:4860")).toBe(true);
    expect(p.originAllowed("https://hive.example.com", "127.0.0.1:4860")).toBe(true);
    expect(p.originAllowed("http://localhost:80", "localhost")).toBe(true);
    expect(p.originAllowed("http://127.0.0.1:5173", "127.0.0.1:4860")).toBe(false);
    expect(p.originAllowed("http://localhost:4860", "127.0.0.1:4860")).toBe(false);
    expect(p.originAllowed("null", "127.0.0.1:4860")).toBe(false);
    expect(p.originAllowed("file://", "127.0.0.1:4860")).toBe(false);
    expect(p.originAllowed("not a url", "127.0.0.1:4860")).toBe(false);
  });

  it("says which --allow-origin value is not an origin", () => {
    expect(() => policy("127.0.0.1", ["hive.example.com"])).toThrow(
      /--allow-origin 'hive.example.com' is not an origin/,
    );
    expect(() => policy("127.0.0.1", ["https://hive.example.com/app"])).toThrow(/not an origin/);
  });
});

describe("failed attempt limiter", () => {
  it("allows a few failures a minute per address, then frees the address as the window slides", () => {
    let now = 1_000_000;
    const limiter = new FailureLimiter(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) {
      expect(limiter.retryAfterMs("a")).toBe(0);
      limiter.fail("a");
      now += 1000;
    }
    expect(limiter.retryAfterMs("a")).toBe(55_000);
    expect(limiter.retryAfterMs("b")).toBe(0);
    now += 55_000;
    expect(limiter.retryAfterMs("a")).toBe(0);
  });
});

describe("session store", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const store = (now: () => number) => {
    const dir = tempDir("hive-auth-");
    const db = openDb(`${dir}/hive.db`);
    cleanups.push(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return new SessionStore(db, now);
  };

  it("expires a session left idle for 30 days and keeps one in use alive", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const sessions = store(() => now);
    const idle = sessions.create({ userAgent: "a", address: "127.0.0.1" });
    const used = sessions.create({ userAgent: "b", address: "127.0.0.1" });
    expect(sessions.bySecret(used.secret)?.touched).toBe(false);
    for (let day = 0; day < 40; day++) {
      now += 24 * 60 * 60 * 1000;
      // Touched (and so its cookie renewed) at each use after a quiet minute.
      expect(sessions.bySecret(used.secret)).toMatchObject({
        session: { id: used.session.id },
        touched: true,
      });
    }
    expect(sessions.bySecret(idle.secret)).toBeUndefined();
    expect(sessions.list().map((s) => s.id)).toEqual([used.session.id]);
    expect(sessions.prune()).toBe(1);
    now += SESSION_IDLE_MS + 1;
    expect(sessions.bySecret(used.secret)).toBeUndefined();
  });

  it("never holds more than 200 live sessions", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const sessions = store(() => now++);
    const first = sessions.create({ userAgent: null, address: null });
    for (let i = 0; i < 210; i++) sessions.create({ userAgent: null, address: null });
    expect(sessions.list()).toHaveLength(200);
    expect(sessions.bySecret(first.secret)).toBeUndefined();
  });
});
