import { describe, expect, it } from "vitest";
import { normalise, resize } from "../../client/components/split-panes.ts";
import { newCellRoute, stepCellRoute } from "../../client/navigation.ts";
import { hrefOf, parseRoute } from "../../client/router.ts";
import { applyAgentEvent } from "../../client/stores/agent.ts";
import { applyEvent, type CellDetail, EMPTY_CELL_DETAIL, mergeTiming } from "../../client/stores/cell.ts";
import type { AgentMessage, AgentSnapshot } from "../../shared/agents.ts";
import type { Cell, ChecklistStep, TimingEvent, Workspace } from "../../shared/records.ts";

const planned = (step: string, gatesReady = true): ChecklistStep => ({
  workflow: "provision",
  step,
  label: step.replace(/_/g, " "),
  state: "pending",
  gatesReady,
  startedAt: null,
  durationMs: null,
  detail: null,
});

const timing = (
  step: string,
  outcome: TimingEvent["outcome"],
  durationMs: number | null = null,
): TimingEvent => ({
  id: 1,
  cellId: "c1",
  cellName: "one",
  workspaceId: "w1",
  workflow: "provision",
  attempt: 1,
  step,
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: outcome === "running" ? null : "2026-01-01T00:00:01.000Z",
  durationMs,
  outcome,
  detail: outcome === "error" ? "exit 1" : null,
});

describe("the live checklist", () => {
  it("moves a planned step from pending to running to done, keeping its label", () => {
    let steps = [planned("create_worktree"), planned("run_setup:0")];
    steps = mergeTiming(steps, timing("create_worktree", "running"));
    expect(steps[0]).toMatchObject({ state: "running", label: "create worktree" });
    steps = mergeTiming(steps, timing("create_worktree", "ok", 120));
    expect(steps[0]).toMatchObject({ state: "done", durationMs: 120 });
    expect(steps[1]!.state).toBe("pending");
  });

  it("marks a failed step and keeps the agent line non-gating", () => {
    let steps = [planned("run_setup:0"), planned("ensure_agent_session", false)];
    steps = mergeTiming(steps, timing("run_setup:0", "error", 30));
    steps = mergeTiming(steps, timing("ensure_agent_session", "running"));
    expect(steps.map((s) => [s.state, s.gatesReady])).toEqual([
      ["failed", true],
      ["running", false],
    ]);
  });

  it("appends a step nobody planned", () => {
    expect(mergeTiming([], timing("mark_ready", "ok", 1)).map((s) => s.step)).toEqual(["mark_ready"]);
  });

  it("keeps only the tail of a step's output and starts over for the next step", () => {
    let d: CellDetail = EMPTY_CELL_DETAIL;
    d = applyEvent(d, { type: "cell.output", step: "run_setup:0", chunk: "x".repeat(20_000) });
    expect(d.output.length).toBe(16_000);
    d = applyEvent(d, { type: "cell.output", step: "run_setup:1", chunk: "second" });
    expect(d.output).toBe("second");
  });

  it("shows a running step's current sub-step", () => {
    const d = applyEvent(
      { ...EMPTY_CELL_DETAIL, steps: [planned("copy_includes")] },
      { type: "cell.progress", step: "copy_includes", detail: "copied 200 files" },
    );
    expect(d.steps[0]!.detail).toBe("copied 200 files");
  });
});

describe("pane sizes", () => {
  it("gives panes their default shares when nothing valid is remembered", () => {
    expect(normalise([], 3)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(normalise([0.5, Number.NaN], 2)).toEqual([0.5, 0.5]);
    expect(normalise([], 3, [2])).toEqual([0.5, 0.25, 0.25]);
  });

  it("moves a gutter but never squeezes a pane below its minimum", () => {
    const sizes = resize([0.5, 0.5], 0, 0.2);
    expect(sizes[0]).toBeCloseTo(0.7);
    expect(sizes[1]).toBeCloseTo(0.3);
    const squeezed = resize([0.5, 0.5], 0, 0.9);
    expect(squeezed[1]).toBeCloseTo(0.12);
    expect(squeezed[0]! + squeezed[1]!).toBeCloseTo(1);
  });
});

describe("routes", () => {
  it("round-trips every screen through its URL", () => {
    for (const route of [
      { name: "home" },
      { name: "cell", cellId: "abc_1" },
      { name: "new-cell", workspaceId: "w-1" },
      { name: "timings", cellId: "c", step: "run_setup" },
      { name: "timings", cellId: "", step: "" },
    ] as const) {
      expect(parseRoute(new URL(hrefOf(route), "http://x"))).toEqual(route);
    }
  });
});

describe("keyboard navigation between cells", () => {
  const cell = (id: string, workspaceId = "w1") => ({ id, workspaceId }) as Cell;
  const order = [cell("a"), cell("b"), cell("c")];

  it("steps to the next and previous cell in sidebar order, wrapping around", () => {
    expect(stepCellRoute({ name: "cell", cellId: "a" }, order, 1)).toEqual({ name: "cell", cellId: "b" });
    expect(stepCellRoute({ name: "cell", cellId: "c" }, order, 1)).toEqual({ name: "cell", cellId: "a" });
    expect(stepCellRoute({ name: "cell", cellId: "a" }, order, -1)).toEqual({ name: "cell", cellId: "c" });
    expect(stepCellRoute({ name: "home" }, order, 1)).toEqual({ name: "cell", cellId: "a" });
    expect(stepCellRoute({ name: "home" }, order, -1)).toEqual({ name: "cell", cellId: "c" });
    expect(stepCellRoute({ name: "home" }, [], 1)).toBeUndefined();
  });

  it("makes a new cell in the workspace on screen", () => {
    const workspaces = [{ id: "w1" }, { id: "w2" }] as Workspace[];
    const cells = new Map([["x", cell("x", "w2")]]);
    expect(newCellRoute({ name: "cell", cellId: "x" }, cells, workspaces)).toEqual({
      name: "new-cell",
      workspaceId: "w2",
    });
    expect(newCellRoute({ name: "timings", cellId: "", step: "" }, cells, workspaces)).toEqual({
      name: "new-cell",
      workspaceId: "w1",
    });
    expect(newCellRoute({ name: "home" }, cells, [])).toBeUndefined();
  });
});

describe("the agent's transcript in a page", () => {
  const message = (n: number): AgentMessage => ({
    id: `msg_${n}`,
    role: "assistant",
    createdAt: n,
    completedAt: n,
    agent: null,
    providerId: null,
    modelId: null,
    error: null,
    parts: [],
  });
  const snapshot = (sessionId: string, ns: number[], earlier: boolean): AgentSnapshot => ({
    cellId: "c1",
    sessionId,
    status: "idle",
    detail: null,
    mode: "build",
    model: null,
    messages: ns.map(message),
    earlier,
    waiting: [],
    activity: [],
  });

  it("keeps the earlier messages fetched before a new snapshot of the same session", () => {
    const all = snapshot("ses_1", [1, 2, 3, 4, 5], false);
    const next = applyAgentEvent(all, { type: "reset", snapshot: snapshot("ses_1", [4, 5, 6], true) });
    expect(next.messages.map((m) => m.createdAt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(next.earlier).toBe(false);
  });

  it("starts over for another session", () => {
    const next = applyAgentEvent(snapshot("ses_1", [1, 2, 3], false), {
      type: "reset",
      snapshot: snapshot("ses_2", [7, 8], true),
    });
    expect(next.messages.map((m) => m.createdAt)).toEqual([7, 8]);
    expect(next.earlier).toBe(true);
  });
});
