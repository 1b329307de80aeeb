import { describe, expect, it } from "vitest";
import { throughHive } from "../../client/local-links.ts";

const services = [
  { port: 5173, proxyPath: "/cells/c1/proxy/web/" },
  { port: 5432, proxyPath: null },
  { port: null, proxyPath: null },
];

describe("links printed in a cell's terminal", () => {
  it("go through Hive when they point at one of the cell's services on this machine", () => {
    expect(throughHive("http://localhost:5173/app/page?x=1#top", services)).toBe(
      "/cells/c1/proxy/web/app/page?x=1#top",
    );
    expect(throughHive("http://127.0.0.1:5173", services)).toBe("/cells/c1/proxy/web/");
    expect(throughHive("http://0.0.0.0:5173/", services)).toBe("/cells/c1/proxy/web/");
    expect(throughHive("http://[::1]:5173/a", services)).toBe("/cells/c1/proxy/web/a");
    expect(throughHive("http://app.localhost:5173/a", services)).toBe("/cells/c1/proxy/web/a");
  });

  it("open as printed otherwise", () => {
    expect(throughHive("http://localhost:3000/", services)).toBeUndefined(); // no service there
    expect(throughHive("http://localhost:5432/", services)).toBeUndefined(); // no proxy for it
    expect(throughHive("https://example.com:5173/", services)).toBeUndefined();
    expect(throughHive("http://localhost/", services)).toBeUndefined(); // port 80
    expect(throughHive("ftp://localhost:5173/", services)).toBeUndefined();
    expect(throughHive("not a url", services)).toBeUndefined();
  });
});
