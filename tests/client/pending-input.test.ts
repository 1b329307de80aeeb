import { describe, expect, it } from "vitest";
import {
  PENDING_INPUT_MAX_AGE_MS,
  PENDING_INPUT_MAX_CHARS,
  PendingInput,
} from "../../client/pending-input.ts";

describe("input typed while disconnected", () => {
  it("is delivered whole and in order", () => {
    const q = new PendingInput();
    expect(q.take()).toBeUndefined();
    q.push("echo ", 0);
    q.push("hi\r", 10);
    expect(q.take(20)).toEqual({ data: "echo hi\r" });
    expect(q.empty).toBe(true);
  });

  it("is dropped entirely, and said so, when too much was typed: half a command line is never sent", () => {
    const q = new PendingInput();
    q.push("rm -rf build/", 0);
    expect(q.push("x".repeat(PENDING_INPUT_MAX_CHARS), 1)).toBe(false);
    expect(q.take(2)).toEqual({
      dropped: 13 + PENDING_INPUT_MAX_CHARS,
      reason: "more than 16 KB was typed while disconnected",
    });
    expect(q.take(3)).toBeUndefined();
  });

  it("drops what is typed after a dropped paste too, so the terminal does not stay queued once back", () => {
    const q = new PendingInput();
    expect(q.push("y".repeat(PENDING_INPUT_MAX_CHARS + 1), 0)).toBe(false);
    expect(q.push("ls\r", 1)).toBe(false);
    expect(q.take(2)).toEqual({
      dropped: PENDING_INPUT_MAX_CHARS + 4,
      reason: "more than 16 KB was typed while disconnected",
    });
    expect(q.empty).toBe(true);
    expect(q.push("pwd\r", 3)).toBe(true);
    expect(q.take(4)).toEqual({ data: "pwd\r" });
  });

  it("is dropped, and said so, when it waited too long", () => {
    const q = new PendingInput();
    q.push("make deploy\r", 0);
    expect(q.take(PENDING_INPUT_MAX_AGE_MS + 1)).toEqual({
      dropped: 12,
      reason: "it waited more than 30 s for the connection",
    });
  });

  it("is dropped when its terminal is gone", () => {
    const q = new PendingInput();
    q.push("ls\r", 0);
    q.discard("the terminal is gone");
    expect(q.take(1)).toEqual({ dropped: 3, reason: "the terminal is gone" });
  });
});
