import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfigText } from "../../server/config/load.ts";
import { configJsonSchema } from "../../shared/config-json-schema.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

describe("parsing hive.config.json", () => {
  it("accepts comments and trailing commas", () => {
    const r = parseConfigText(`{
      // the only template
      "templates": [{ "id": "web", "label": "Web", "setup": ["npm ci",], },],
    }`);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.templates[0]!.setup).toEqual(["npm ci"]);
  });

  it("names the key path and the line of a wrong value", () => {
    const text = `{
  "templates": [
    {
      "id": "web",
      "label": "Web",
      "setup": "npm ci"
    }
  ]
}`;
    const r = parseConfigText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ path: "templates[0].setup", line: 6 });
      expect(r.errors[0]!.message).toMatch(/array/);
    }
  });

  it("says what is wrong with a value that fits no form of a key that takes several", () => {
    const setup = (steps: string) =>
      parseConfigText(`{\n  "templates": [\n    { "id": "x", "label": "X", "setup": ${steps} }\n  ]\n}\n`);
    // A step of the right shape (an object) with a wrong field: that field, not "Invalid input".
    expect(setup('[{ "run": 5 }]')).toMatchObject({
      ok: false,
      errors: [
        {
          path: "templates[0].setup[0].run",
          line: 3,
          message: "Invalid input: expected string, received number",
        },
      ],
    });
    expect(setup('["ok", { "run": "x", "timeoutMs": -1 }]')).toMatchObject({
      errors: [{ path: "templates[0].setup[1].timeoutMs", message: expect.stringMatching(/Too small/) }],
    });
    // A value of no accepted type: the types that would do.
    expect(setup("[5]")).toMatchObject({
      errors: [{ path: "templates[0].setup[0]", message: "expected string or object, received number" }],
    });
  });

  it("names the line of a syntax error", () => {
    const r = parseConfigText(`{\n  "templates": [\n    { "id": "x" "label": "y" }\n  ]\n}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ path: "(syntax)", line: 3 });
  });

  it("rejects include patterns that leave the repository", () => {
    const r = parseConfigText(
      JSON.stringify({ templates: [{ id: "a", label: "A", include: ["../../etc/passwd", "/etc/shadow"] }] }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.path)).toEqual(["templates[0].include[0]", "templates[0].include[1]"]);
      expect(r.errors[0]!.message).toContain("..");
    }
  });

  it("rejects unknown dependsOn, dependency cycles and bad regular expressions in services", () => {
    const r = parseConfigText(
      JSON.stringify({
        templates: [
          {
            id: "a",
            label: "A",
            services: {
              web: { run: "x", dependsOn: ["api"], readyPattern: "([" },
              api: { run: "y", dependsOn: ["web"] },
              worker: { run: "z", dependsOn: ["nope"] },
            },
          },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const messages = r.errors.map((e) => `${e.path}: ${e.message}`).join("\n");
      expect(messages).toContain("templates[0].services.worker.dependsOn: unknown service 'nope'");
      expect(messages).toContain("dependency cycle: web -> api -> web");
      expect(messages).toContain("templates[0].services.web.readyPattern: not a valid regular expression");
    }
  });

  it("rejects unknown keys and duplicate template ids", () => {
    const r = parseConfigText(
      JSON.stringify({
        templates: [
          { id: "a", label: "A", stup: [] },
          { id: "a", label: "B" },
        ],
      }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const messages = r.errors.map((e) => `${e.path}: ${e.message}`).join("\n");
      expect(messages).toContain('templates[0]: Unrecognized key: "stup"');
      expect(messages).toContain("templates[1].id: duplicate id 'a'");
    }
    const missing = parseConfigText('{ "templates": [{ "id": "a" }] }');
    expect(missing.ok).toBe(false);
    if (!missing.ok)
      expect(missing.errors).toContainEqual(
        expect.objectContaining({ path: "templates[0].label", message: "required", line: 1 }),
      );
  });

  it("ships a JSON Schema that matches the zod schema", () => {
    const shipped = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../schema/hive.config.schema.json"), "utf8"),
    );
    expect(shipped, "schema/hive.config.schema.json is stale: run npx tsx scripts/gen-schema.ts").toEqual(
      configJsonSchema(),
    );
  });
});

describe("templates over HTTP", () => {
  let repo: TempRepo;
  let h: TestHive;
  afterEach(async () => {
    await h?.close();
    repo?.cleanup();
  });

  it("offers the built-in Basic template when there is no config file", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const r = await h.api("GET", `/api/templates?workspaceId=${h.workspaceId}`);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe("default");
    expect(r.body.templates.map((t: { label: string }) => t.label)).toEqual(["Basic"]);
  });

  it("keeps the last good config in force while the file is invalid, and picks up fixes without a restart", async () => {
    repo = makeRepo();
    repo.writeConfig({ templates: [{ id: "web", label: "Web" }] });
    h = await startHive(repo.path);
    expect((await h.api("GET", `/api/templates?workspaceId=${h.workspaceId}`)).body.templates[0].id).toBe(
      "web",
    );

    repo.writeConfig('{\n  "templates": [\n    { "id": "web", "label": 42 }\n  ]\n}');
    const broken = await h.api("GET", `/api/templates?workspaceId=${h.workspaceId}`);
    expect(broken.body.errors).toEqual([expect.objectContaining({ path: "templates[0].label", line: 3 })]);
    expect(broken.body.templates[0].label).toBe("Web");

    repo.writeConfig({
      templates: [
        { id: "web", label: "Web app" },
        { id: "docs", label: "Docs" },
      ],
    });
    const fixed = await h.api("GET", `/api/templates?workspaceId=${h.workspaceId}`);
    expect(fixed.body.errors).toBeNull();
    expect(fixed.body.templates.map((t: { id: string }) => t.id)).toEqual(["web", "docs"]);
  });

  it("reports a missing workspaceId as a bad request", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const r = await h.api("GET", "/api/templates");
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("query.workspaceId");
  });
});
