import { z } from "zod";
import {
  type Cell,
  CellSchema,
  type ChecklistStep,
  ChecklistStepSchema,
  SETUP_OUTPUT_TAIL_CHARS,
  type TimingEvent,
  TimingEventSchema,
} from "../../shared/records.ts";
import { type TerminalInfo, TerminalInfoSchema } from "../../shared/terminals.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

const SnapshotSchema = z.object({
  cell: CellSchema,
  steps: z.array(ChecklistStepSchema).default([]),
  terminals: z.array(TerminalInfoSchema).default([]),
});
const EventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cell.updated"), cell: CellSchema }),
  z.object({ type: z.literal("cell.step"), timing: TimingEventSchema }),
  z.object({ type: z.literal("cell.steps"), steps: z.array(ChecklistStepSchema) }),
  z.object({ type: z.literal("cell.output"), step: z.string(), chunk: z.string() }),
  z.object({ type: z.literal("cell.progress"), step: z.string(), detail: z.string() }),
  z.object({ type: z.literal("cell.removed"), cellId: z.string() }),
  z.object({ type: z.literal("terminal.opened"), terminal: TerminalInfoSchema }),
  z.object({ type: z.literal("terminal.updated"), terminal: TerminalInfoSchema }),
  z.object({ type: z.literal("terminal.closed"), termId: z.string() }),
]);

export interface CellDetail {
  cell: Cell | undefined;
  steps: ChecklistStep[];
  /** Output of the running (or failed) setup step, bounded to its tail. */
  output: string;
  outputStep: string | undefined;
  /** The cell's shells on the server, oldest first (exited ones stay until closed). */
  terminals: TerminalInfo[];
  removed: boolean;
}

export const EMPTY_CELL_DETAIL: CellDetail = {
  cell: undefined,
  steps: [],
  output: "",
  outputStep: undefined,
  terminals: [],
  removed: false,
};

/** One cell's status, provisioning checklist, live setup output and terminals, over `cell:<id>`. */
export class CellStore {
  readonly detail = new Store<CellDetail>(EMPTY_CELL_DETAIL);
  private off: (() => void) | undefined;

  constructor(
    private readonly socket: HiveSocket,
    readonly cellId: string,
  ) {}

  start(): void {
    this.off = this.socket.subscribe(`cell:${this.cellId}`, {
      snapshot: (state) => {
        const parsed = SnapshotSchema.safeParse(state);
        if (!parsed.success) return console.warn("hive: unexpected cell snapshot", parsed.error);
        const { cell, steps, terminals } = parsed.data;
        // Output from before this snapshot is in the setup log, not here; keep what this tab already saw.
        this.detail.set({ ...this.detail.value, cell, steps, terminals, removed: false });
        if (!this.detail.value.output && (cell.status === "spawning" || cell.status === "error")) {
          void this.loadSetupLog();
        }
      },
      event: (event) => {
        const parsed = EventSchema.safeParse(event);
        if (parsed.success) this.detail.set(applyEvent(this.detail.value, parsed.data));
      },
    });
  }

  /** After a reload the live output so far is only in the setup log: its tail fills the checklist. */
  private async loadSetupLog(): Promise<void> {
    try {
      const log = await api<string>("GET", `/api/cells/${encodeURIComponent(this.cellId)}/setup-log`);
      if (typeof log === "string" && !this.detail.value.output)
        this.detail.set({ ...this.detail.value, output: tail(log) });
    } catch {
      // No log yet (nothing ran): the checklist simply shows none.
    }
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }
}

type Event = z.infer<typeof EventSchema>;

export function applyEvent(d: CellDetail, e: Event): CellDetail {
  switch (e.type) {
    case "cell.updated":
      return { ...d, cell: e.cell };
    case "cell.steps":
      return { ...d, steps: e.steps };
    case "cell.step":
      return { ...d, steps: mergeTiming(d.steps, e.timing) };
    case "cell.output":
      return appendOutput(d, e.step, e.chunk);
    case "cell.progress": {
      const steps = d.steps.map((s) => (s.step === e.step ? { ...s, detail: e.detail } : s));
      // A setup command's progress is its output, chunk by chunk: the live pane keeps all of it.
      return e.step.startsWith("run_setup")
        ? { ...appendOutput(d, e.step, e.detail), steps }
        : { ...d, steps };
    }
    case "cell.removed":
      return { ...d, removed: true };
    case "terminal.opened":
    case "terminal.updated": {
      const rest = d.terminals.filter((t) => t.termId !== e.terminal.termId);
      const terminals = [...rest, e.terminal].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return { ...d, terminals };
    }
    case "terminal.closed":
      return { ...d, terminals: d.terminals.filter((t) => t.termId !== e.termId) };
  }
}

function appendOutput(d: CellDetail, step: string, chunk: string): CellDetail {
  return step === d.outputStep
    ? { ...d, output: tail(d.output + chunk) }
    : { ...d, output: tail(chunk), outputStep: step };
}

const STATE_OF: Record<TimingEvent["outcome"], ChecklistStep["state"]> = {
  running: "running",
  ok: "done",
  error: "failed",
  skipped: "skipped",
};

/** A recorded step start or end moves its planned line; a step nobody planned is appended. */
export function mergeTiming(steps: ChecklistStep[], t: TimingEvent): ChecklistStep[] {
  const i = steps.findIndex((s) => s.step === t.step);
  const prev = steps[i];
  const line: ChecklistStep = {
    workflow: prev?.workflow ?? (t.workflow === "delete" ? "delete" : "provision"),
    step: t.step,
    label: prev?.label ?? t.step,
    gatesReady: prev?.gatesReady ?? true,
    state: STATE_OF[t.outcome],
    startedAt: t.startedAt,
    durationMs: t.durationMs,
    detail: t.detail ?? prev?.detail ?? null,
  };
  if (i < 0) return [...steps, line];
  return steps.map((s, j) => (j === i ? line : s));
}

/** Live setup output kept for the checklist: the tail is what a person reads on failure. */
function tail(s: string): string {
  return s.length > SETUP_OUTPUT_TAIL_CHARS ? s.slice(-SETUP_OUTPUT_TAIL_CHARS) : s;
}
