import {
  type AnswerInboxBody,
  InboxEventSchema,
  type InboxItem,
  InboxSnapshotSchema,
} from "../../shared/agents.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

/** Every agent waiting for a person, across cells, over `inbox:all`. */
export class InboxStore {
  readonly items = new Store<InboxItem[]>([]);
  readonly error = new Store<string | undefined>(undefined);
  /** Called for each item that arrives while this tab listens (not for the first snapshot). */
  onAdded: ((item: InboxItem) => void) | undefined;
  private off: (() => void) | undefined;

  constructor(private readonly socket: HiveSocket) {}

  start(): void {
    if (this.off) return;
    this.off = this.socket.subscribe("inbox:all", {
      snapshot: (state) => {
        const parsed = InboxSnapshotSchema.safeParse(state);
        if (parsed.success) this.items.set(parsed.data.items);
      },
      event: (event) => {
        const parsed = InboxEventSchema.safeParse(event);
        if (!parsed.success) return;
        const e = parsed.data;
        if (e.type === "added") {
          if (this.items.value.some((i) => i.id === e.item.id)) return;
          this.items.set([...this.items.value, e.item]);
          this.onAdded?.(e.item);
        } else {
          this.items.set(this.items.value.filter((i) => i.id !== e.id));
        }
      },
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  async answer(id: string, body: AnswerInboxBody): Promise<void> {
    try {
      await api("POST", `/api/inbox/${id}`, body);
      this.error.set(undefined);
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }
}
