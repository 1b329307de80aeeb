import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { COALESCE_MS, OutputCoalescer } from "../../server/terminals/host/output-coalescer.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array, headroom: number) => new TextDecoder().decode(b.subarray(headroom));

describe("the output coalescer", () => {
  // The coalescer decides by elapsed time: a real clock on a loaded machine can pass 5 ms between two pushes.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["performance", "setTimeout", "clearTimeout"] });
    vi.advanceTimersByTime(1000); // the terminal has been quiet for a second
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a key's echo at once even while trailing output of the previous key waits in a batch", async () => {
    const sent: { text: string; interactive: boolean }[] = [];
    const c = new OutputCoalescer(4, (frame, interactive) =>
      sent.push({ text: text(frame, 4), interactive }),
    );
    c.noteInput();
    c.push(bytes("k")); // the line discipline's echo of the first key: at once
    c.push(bytes("k")); // the program's own answer right after it: batched
    expect(sent).toEqual([{ text: "k", interactive: true }]);
    c.noteInput();
    c.push(bytes("j")); // the next key's echo must not wait for the batch's timer
    expect(sent).toEqual([
      { text: "k", interactive: true },
      { text: "kj", interactive: true },
    ]);
    c.dispose();
  });

  it("gathers sustained output that no input precedes, and sends it on the timer", async () => {
    const sent: string[] = [];
    const c = new OutputCoalescer(0, (frame) => sent.push(text(frame, 0)));
    c.push(bytes("a"));
    c.push(bytes("b"));
    c.push(bytes("c"));
    expect(sent).toEqual(["a"]);
    vi.advanceTimersByTime(COALESCE_MS * 4);
    expect(sent).toEqual(["a", "bc"]);
    c.dispose();
  });
});
