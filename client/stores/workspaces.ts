import { z } from "zod";
import { type Workspace, WorkspaceSchema } from "../../shared/records.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";

const WorkspaceListSchema = z.array(WorkspaceSchema);
/** The snapshot of `workspaces:all` is the list, bare or wrapped. */
const SnapshotSchema = z.union([WorkspaceListSchema, z.object({ workspaces: WorkspaceListSchema })]);
const EventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("workspace.added"), workspace: WorkspaceSchema }),
  z.object({ type: z.literal("workspace.removed"), workspaceId: z.string() }),
]);

/** Every registered workspace, live over `workspaces:all`. */
export class WorkspacesStore {
  readonly list = new Store<Workspace[]>([]);
  readonly loaded = new Store(false);

  constructor(private readonly socket: HiveSocket) {}

  start(): () => void {
    return this.socket.subscribe("workspaces:all", {
      snapshot: (state) => {
        const parsed = SnapshotSchema.safeParse(state);
        if (!parsed.success) return console.warn("hive: unexpected workspaces snapshot", parsed.error);
        this.list.set(Array.isArray(parsed.data) ? parsed.data : parsed.data.workspaces);
        this.loaded.set(true);
      },
      event: (event) => {
        const parsed = EventSchema.safeParse(event);
        if (!parsed.success) return;
        if (parsed.data.type === "workspace.added") this.upsert(parsed.data.workspace);
        else this.drop(parsed.data.workspaceId);
      },
    });
  }

  /** Loads the list over HTTP: the first call that tells whether this tab is signed in. */
  async load(): Promise<void> {
    this.list.set(await api("GET", "/api/workspaces", undefined, WorkspaceListSchema));
    this.loaded.set(true);
  }

  async add(path: string): Promise<Workspace> {
    const ws = await api("POST", "/api/workspaces", { path }, WorkspaceSchema);
    this.upsert(ws);
    return ws;
  }

  /** Removes a workspace from Hive (refused while it has cells); its repository is not touched. */
  async remove(id: string): Promise<void> {
    await api("DELETE", `/api/workspaces/${encodeURIComponent(id)}`);
    this.drop(id);
  }

  private drop(id: string): void {
    if (this.list.value.some((w) => w.id === id)) this.list.set(this.list.value.filter((w) => w.id !== id));
  }

  private upsert(ws: Workspace): void {
    const rest = this.list.value.filter((w) => w.id !== ws.id);
    this.list.set([...rest, ws]);
  }
}
