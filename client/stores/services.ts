import {
  type AgentServerUsage,
  PreviewLinkSchema,
  type ResourceSample,
  ResourcesResponseSchema,
  type ServiceState,
  ServiceStateSchema,
  ServicesEventSchema,
  ServicesSnapshotSchema,
  serviceLogChannelId,
} from "../../shared/services.ts";
import { api } from "../api.ts";
import type { HiveSocket } from "../socket.ts";
import { Store } from "../store.ts";
import { TerminalSession, type TerminalSize } from "../terminal-session.ts";

/** How often the strip refreshes the cell's CPU and memory (the server samples every few seconds). */
const RESOURCES_POLL_MS = 5_000;

/** A service's output as a terminal that only reads: typing and resizing go nowhere. */
export class ServiceLogSession extends TerminalSession {
  constructor(socket: HiveSocket, cellId: string, name: string) {
    const id = serviceLogChannelId(cellId, name);
    super(socket, id, `svclog:${id}`);
  }

  override input(): void {}

  override fit(cols: number, rows: number): TerminalSize {
    return { cols, rows };
  }

  override claimSize(): void {}

  override async close(): Promise<undefined> {
    this.dispose();
    return undefined;
  }
}

/** One cell's services (live over `services:<cellId>`), their commands, and the cell's resource use. */
export class ServicesStore {
  readonly services = new Store<ServiceState[]>([]);
  readonly resources = new Store<ResourceSample | null>(null);
  /** The last hour of samples, oldest first (the server keeps a day). */
  readonly history = new Store<ResourceSample[]>([]);
  /** The workspace's OpenCode server as a whole (its CPU is shared overhead while no agent is busy). */
  readonly agentServer = new Store<AgentServerUsage | null>(null);
  /** The last command or load that failed, in words. */
  readonly error = new Store<string | undefined>(undefined);
  private offs: (() => void)[] = [];

  constructor(
    private readonly socket: HiveSocket,
    readonly cellId: string,
  ) {}

  connect(): void {
    this.offs.push(
      this.socket.subscribe(`services:${this.cellId}`, {
        snapshot: (state) => {
          const parsed = ServicesSnapshotSchema.safeParse(state);
          if (parsed.success) this.services.set(parsed.data.services);
        },
        event: (event) => {
          const parsed = ServicesEventSchema.safeParse(event);
          if (!parsed.success) return;
          const e = parsed.data;
          const list = this.services.value;
          if (e.type === "service.removed") return this.services.set(list.filter((s) => s.name !== e.name));
          const i = list.findIndex((s) => s.name === e.service.name);
          this.services.set(i < 0 ? [...list, e.service] : list.map((s, j) => (j === i ? e.service : s)));
        },
        error: (_code, message) => this.error.set(message),
      }),
    );
    void this.loadResources();
    const timer = setInterval(() => void this.loadResources(), RESOURCES_POLL_MS);
    this.offs.push(() => clearInterval(timer));
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** start, stop or restart one service, or every service of the cell when `name` is omitted. */
  async act(action: "start" | "stop" | "restart", name?: string): Promise<void> {
    const path = `/api/cells/${this.cellId}/services/${name ? `${encodeURIComponent(name)}/` : ""}${action}`;
    try {
      this.error.set(undefined);
      if (name) await api("POST", path, undefined, ServiceStateSchema);
      else await api("POST", path);
    } catch (e) {
      this.error.set((e as Error).message);
    }
  }

  /**
   * Opens the service on its own origin (`<cell>--<service>.localhost`, full fidelity: its own storage and
   * service workers) through a one-time sign-in link. The tab opens before the link is asked for, so the
   * browser counts it as the click's; it loses its opener, so the preview cannot steer Hive's tab.
   */
  async openOwnOrigin(name: string): Promise<void> {
    const tab = window.open("about:blank", "_blank");
    if (tab) tab.opener = null;
    try {
      this.error.set(undefined);
      const link = await api(
        "POST",
        `/api/cells/${this.cellId}/services/${encodeURIComponent(name)}/preview-link`,
        undefined,
        PreviewLinkSchema,
      );
      if (tab) tab.location.href = link.url;
      else this.error.set("The browser blocked the new tab; allow pop-ups for Hive.");
    } catch (e) {
      tab?.close();
      this.error.set((e as Error).message);
    }
  }

  logSession(name: string): ServiceLogSession {
    return new ServiceLogSession(this.socket, this.cellId, name);
  }

  private async loadResources(): Promise<void> {
    try {
      const r = await api(
        "GET",
        `/api/cells/${this.cellId}/resources?minutes=60`,
        undefined,
        ResourcesResponseSchema,
      );
      this.history.set(r.history);
      this.agentServer.set(r.agentServer);
      this.resources.set(r.latest);
    } catch {
      // The strip shows services without figures; the next poll tries again.
    }
  }
}
