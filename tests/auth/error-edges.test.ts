import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { rawRequest } from "./request.ts";

/** The HTTP error layer's edges: bad bodies and unknown routes get coded errors, never a stack or HTML. */
describe("HTTP errors at the edges", () => {
  let repo: TempRepo;
  let hive: TestHive;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    rawRequest(`${hive.url}${path}`, {
      method: "POST",
      headers: { ...hive.headers, "content-type": "application/json", ...headers },
      body,
    });

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
  });
  afterAll(async () => {
    await hive.close();
    repo.cleanup();
  });

  it("answers malformed JSON with a 400 that says so", async () => {
    const res = await post("/api/cells", '{"name": ');
    expect(res.status).toBe(400);
    expect(res.json().error).toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/not valid JSON/),
    });
    expect(res.body).not.toMatch(/\.ts:\d+/);
  });

  it("refuses an oversized body with a 413", async () => {
    const res = await post("/api/cells", JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.json().error.code).toBe("BAD_REQUEST");
  });

  it("names every wrong field of a body, and where", async () => {
    const res = await post("/api/cells", JSON.stringify({ workspaceId: 7, extra: true }));
    expect(res.status).toBe(400);
    const paths = res.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.workspaceId", "body.templateId", "body.name"]));
    // A missing field says so in a word; a wrong one says what was expected.
    expect(res.json().error.message).toContain("body.templateId: required");
    expect(res.json().error.message).toContain(
      "body.workspaceId: Invalid input: expected string, received number",
    );
    const twoLines = await post(
      "/api/cells",
      JSON.stringify({ workspaceId: hive.workspaceId, templateId: "basic", name: "fix\nlogin" }),
    );
    expect(twoLines.status).toBe(400);
    expect(twoLines.json().error.message).toBe(
      "Invalid request body: body.name: must be one line, without control characters",
    );
  });

  it("answers an unknown API route with a JSON 404 when signed in, and 401 when not", async () => {
    const known = await rawRequest(`${hive.url}/api/no-such-thing`, { headers: hive.headers });
    expect(known.status).toBe(404);
    expect(known.headers["content-type"]).toMatch(/application\/json/);
    expect(known.json().error.code).toBe("NOT_FOUND");
    const anonymous = await rawRequest(`${hive.url}/api/no-such-thing`);
    expect(anonymous.status).toBe(401);
  });

  it("rejects ids that could reach outside their table or folder", async () => {
    for (const id of ["..%2F..%2Fetc", "a%00b", "x".repeat(65)]) {
      const res = await rawRequest(`${hive.url}/api/cells/${id}`, { headers: hive.headers });
      expect(res.status, id).toBe(400);
      expect(res.json().error.message).toMatch(/params\.id/);
    }
  });
});
