import { z } from "zod";
import { type TimingEvent, TimingEventSchema } from "../../shared/records.ts";
import { api } from "../api.ts";
import { Store } from "../store.ts";

export interface TimingsFilter {
  cellId: string;
  step: string;
}

/** Every cell's recorded steps (deleted cells too), slowest first, as the server filters them. */
export class TimingsStore {
  readonly events = new Store<TimingEvent[]>([]);
  readonly error = new Store<string | undefined>(undefined);
  readonly filter = new Store<TimingsFilter>({ cellId: "", step: "" });
  /** Every cell and step seen in any answer, so a filter still offers the others once one is applied. */
  readonly cellNames = new Map<string, string>();
  readonly steps = new Set<string>();

  async load(filter: TimingsFilter = this.filter.value): Promise<void> {
    this.filter.set(filter);
    const q = new URLSearchParams();
    if (filter.cellId) q.set("cellId", filter.cellId);
    if (filter.step) q.set("step", filter.step);
    try {
      const events = await api("GET", `/api/timings?${q}`, undefined, z.array(TimingEventSchema));
      this.events.set([...events].sort((a, b) => (b.durationMs ?? -1) - (a.durationMs ?? -1)));
      for (const e of events) {
        this.cellNames.set(e.cellId, e.cellName);
        this.steps.add(e.step);
      }
      this.error.set(undefined);
    } catch (err) {
      this.error.set((err as Error).message);
    }
  }
}
