import { afterEach, describe, expect, it } from "vitest";
import { ReviewStore } from "../../server/diffs/review-store.ts";
import { HiveError } from "../../shared/errors.ts";
import { type CellFixture, makeCell } from "./fixture.ts";

let fx: CellFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe("review comments", () => {
  it("keeps a comment on its line as lines are added above it, and marks it outdated when the line goes", async () => {
    fx = await makeCell({ "app.ts": "one\ntwo\nthree\n" });
    fx.write("app.ts", "one\ntwo\nthree\nfour\n");
    const c = await fx.diffs.addComment(fx.cell.id, {
      path: "app.ts",
      line: 3,
      side: "new",
      body: "rename three",
    });
    expect(c).toMatchObject({ line: 3, anchorText: "three", resolved: false, outdated: false, sentAt: null });

    fx.write("app.ts", "zero\nhalf\none\ntwo\nthree\nfour\n");
    expect((await fx.diffs.comments(fx.cell.id))[0]).toMatchObject({ line: 5, outdated: false });

    fx.write("app.ts", "zero\none\n");
    expect((await fx.diffs.comments(fx.cell.id))[0]).toMatchObject({ outdated: true });
    // Persisted: a fresh store over the same database sees the same.
    expect(new ReviewStore(fx.db).comments(fx.cell.id)[0]).toMatchObject({
      body: "rename three",
      outdated: true,
    });
  });

  it("resolves, unresolves, edits and deletes comments", async () => {
    fx = await makeCell({ "a.txt": "x\n" });
    const c = await fx.diffs.addComment(fx.cell.id, { path: "a.txt", line: 1, side: "old", body: "why" });
    expect(fx.diffs.updateComment(fx.cell.id, c.id, { resolved: true }).resolved).toBe(true);
    expect(fx.diffs.updateComment(fx.cell.id, c.id, { resolved: false, body: "why?" })).toMatchObject({
      resolved: false,
      body: "why?",
    });
    fx.diffs.deleteComment(fx.cell.id, c.id);
    expect(await fx.diffs.comments(fx.cell.id)).toEqual([]);
    expect(() => fx!.diffs.updateComment(fx!.cell.id, c.id, { resolved: true })).toThrow(HiveError);
  });

  it("refuses a comment on a line the file does not have", async () => {
    fx = await makeCell({ "a.txt": "x\n" });
    await expect(
      fx.diffs.addComment(fx.cell.id, { path: "a.txt", line: 9, side: "new", body: "b" }),
    ).rejects.toThrow(/no line 9/);
    await expect(
      fx.diffs.addComment(fx.cell.id, { path: "nope.txt", line: 1, side: "new", body: "b" }),
    ).rejects.toThrow(/does not exist/);
  });

  it("sends open comments to the agent as one prompt with file, line, code and comment, then marks them sent", async () => {
    fx = await makeCell({ "src/calc.ts": "export function add(a, b) {\n  return a - b;\n}\n" });
    fx.write("notes.md", "todo\n");
    await fx.diffs.addComment(fx.cell.id, {
      path: "src/calc.ts",
      line: 2,
      side: "new",
      body: "This subtracts; it should add.",
    });
    const resolved = await fx.diffs.addComment(fx.cell.id, {
      path: "notes.md",
      line: 1,
      side: "new",
      body: "done",
    });
    fx.diffs.updateComment(fx.cell.id, resolved.id, { resolved: true });

    const result = await fx.diffs.sendReview(fx.cell.id);
    expect(result.sent).toBe(1);
    expect(fx.prompts).toHaveLength(1);
    const text = fx.prompts[0]!.text;
    expect(text).toContain("src/calc.ts, line 2");
    expect(text).toContain(">   return a - b;");
    expect(text).toContain("Comment: This subtracts; it should add.");
    expect(text).not.toContain("done");
    expect(
      (await fx.diffs.comments(fx.cell.id)).find((c) => c.path === "src/calc.ts")?.sentAt,
    ).not.toBeNull();
    await expect(fx.diffs.sendReview(fx.cell.id)).rejects.toThrow(/no open, unsent comments/);
  });
});
