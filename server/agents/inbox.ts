import type { InboxItem } from "../../shared/agents.ts";
import type { EventBus } from "../events/bus.ts";

/** Every agent waiting for a person, across cells: permission requests and questions, oldest first. */
export class Inbox {
  private readonly items = new Map<string, InboxItem>();

  constructor(private readonly bus: EventBus) {}

  list(cellId?: string): InboxItem[] {
    const all = [...this.items.values()].sort((a, b) => a.askedAt.localeCompare(b.askedAt));
    return cellId ? all.filter((i) => i.cellId === cellId) : all;
  }

  get(id: string): InboxItem | undefined {
    return this.items.get(id);
  }

  add(item: InboxItem): void {
    if (this.items.has(item.id)) return;
    this.items.set(item.id, item);
    this.bus.emit("agent.inbox", { event: { type: "added", item } });
  }

  /** Returns the removed item, if it was there. */
  remove(id: string): InboxItem | undefined {
    const item = this.items.get(id);
    if (!item) return undefined;
    this.items.delete(id);
    this.bus.emit("agent.inbox", { event: { type: "removed", id } });
    return item;
  }

  removeCell(cellId: string): void {
    for (const item of this.list(cellId)) this.remove(item.id);
  }
}
