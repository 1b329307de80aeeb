import { describe, expect, it } from "vitest";
import { leanPart, TOOL_PREVIEW_CHARS } from "../../server/agents/transcript.ts";
import type { AgentPart } from "../../shared/agents.ts";

const tool = (state: Record<string, unknown>): AgentPart => ({
  id: "prt_1",
  type: "tool",
  tool: "write",
  state: { status: "completed", ...state },
});

describe("a part as the chat gets it", () => {
  it("keeps text and short tool calls as they are, without OpenCode's display metadata", () => {
    const text: AgentPart = { id: "prt_t", type: "text", text: "y".repeat(10_000) };
    expect(leanPart(text)).toBe(text);
    const short = leanPart(
      tool({ input: { filePath: "/w/a.txt" }, output: "ok", metadata: { display: "ok" } }),
    );
    expect(short.state).toEqual({ status: "completed", input: { filePath: "/w/a.txt" }, output: "ok" });
  });

  it("cuts a long output and long input strings to a preview, and says what it cut", () => {
    const content = "c".repeat(TOOL_PREVIEW_CHARS + 1);
    const lean = leanPart(tool({ input: { filePath: "/w/big.txt", content }, output: "o".repeat(50_000) }));
    expect(lean.state?.output).toBe("o".repeat(TOOL_PREVIEW_CHARS));
    expect(lean.state?.input).toEqual({ filePath: "/w/big.txt", content: "c".repeat(TOOL_PREVIEW_CHARS) });
    expect(lean.state?.cut).toEqual({ output: 50_000, input: ["content"] });
  });

  it("never ends a preview half-way through a character outside the BMP", () => {
    const output = `${"a".repeat(TOOL_PREVIEW_CHARS - 1)}😀${"b".repeat(10)}`;
    const lean = leanPart(tool({ output }));
    expect(lean.state?.output).toBe("a".repeat(TOOL_PREVIEW_CHARS - 1));
    expect(lean.state?.cut).toEqual({ output: output.length });
  });
});
