import { z } from "zod";
import type { CreateCellBody } from "../../shared/api.ts";
import {
  type Cell,
  CellSchema,
  type TemplatesResponse,
  TemplatesResponseSchema,
} from "../../shared/records.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

const CellListSchema = z.array(CellSchema);
const SnapshotSchema = z.union([CellListSchema, z.object({ cells: CellListSchema })]);
const EventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cell.updated"), cell: CellSchema }),
  z.object({ type: z.literal("cell.removed"), cellId: z.string() }),
  z.object({ type: z.literal("config.changed") }),
]);

/** Every cell of every workspace this tab shows, live over one `workspace:<id>` channel per workspace. */
export class CellsStore {
  /** Cells by id, across workspaces. */
  readonly byId = new Store<ReadonlyMap<string, Cell>>(new Map());
  private readonly watched = new Map<string, () => void>();
  /** Told the workspace whose hive.config.json changed (and so its templates). */
  readonly configChanged = new Set<(workspaceId: string) => void>();

  constructor(private readonly socket: HiveSocket) {}

  /** Follows exactly these workspaces: new ones are subscribed, vanished ones dropped. */
  watch(workspaceIds: string[]): void {
    for (const id of workspaceIds) {
      if (this.watched.has(id)) continue;
      this.watched.set(
        id,
        this.socket.subscribe(`workspace:${id}`, {
          snapshot: (state) => {
            const parsed = SnapshotSchema.safeParse(state);
            if (!parsed.success) return console.warn("hive: unexpected cell list snapshot", parsed.error);
            this.replaceWorkspace(id, Array.isArray(parsed.data) ? parsed.data : parsed.data.cells);
          },
          event: (event) => {
            const parsed = EventSchema.safeParse(event);
            if (!parsed.success) return;
            if (parsed.data.type === "cell.updated") this.upsert(parsed.data.cell);
            else if (parsed.data.type === "cell.removed") this.remove(parsed.data.cellId);
            else for (const fn of this.configChanged) fn(id);
          },
        }),
      );
    }
    for (const [id, off] of this.watched) {
      if (workspaceIds.includes(id)) continue;
      off();
      this.watched.delete(id);
    }
  }

  of(workspaceId: string): Cell[] {
    return [...this.byId.value.values()]
      .filter((c) => c.workspaceId === workspaceId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async create(body: CreateCellBody): Promise<Cell> {
    const cell = await api("POST", "/api/cells", body, CellSchema);
    this.upsert(cell);
    return cell;
  }

  async retry(cellId: string): Promise<void> {
    await api("POST", `/api/cells/${encodeURIComponent(cellId)}/setup/retry`);
  }

  async delete(cellId: string): Promise<void> {
    await api("DELETE", `/api/cells/${encodeURIComponent(cellId)}`);
  }

  async archive(cellId: string): Promise<void> {
    await api("POST", `/api/cells/${encodeURIComponent(cellId)}/archive`);
  }

  async restore(cellId: string): Promise<void> {
    await api("POST", `/api/cells/${encodeURIComponent(cellId)}/restore`);
  }

  templates(workspaceId: string): Promise<TemplatesResponse> {
    return api(
      "GET",
      `/api/templates?workspaceId=${encodeURIComponent(workspaceId)}`,
      undefined,
      TemplatesResponseSchema,
    );
  }

  upsert(cell: Cell): void {
    const next = new Map(this.byId.value);
    next.set(cell.id, cell);
    this.byId.set(next);
  }

  private remove(cellId: string): void {
    if (!this.byId.value.has(cellId)) return;
    const next = new Map(this.byId.value);
    next.delete(cellId);
    this.byId.set(next);
  }

  private replaceWorkspace(workspaceId: string, cells: Cell[]): void {
    const next = new Map([...this.byId.value].filter(([, c]) => c.workspaceId !== workspaceId));
    for (const c of cells) next.set(c.id, c);
    this.byId.set(next);
  }
}
