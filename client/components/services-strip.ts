import { css, html, LitElement, nothing, type PropertyValues, svg } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import type { Cell } from "../../shared/records.ts";
import type { ResourceSample, ServiceState } from "../../shared/services.ts";
import { hive } from "../context.ts";
import { throughHive } from "../local-links.ts";
import { type ServiceLogSession, ServicesStore } from "../stores/services.ts";
import { buttonStyles, statusStyles } from "./styles.ts";
import "./terminal-pane.ts";

/** Own-origin previews live at `*.localhost`, which only a browser on Hive's own machine reaches. */
const LOOPBACK_PAGE = ["localhost", "127.0.0.1", "[::1]"].includes(location.hostname);

/**
 * The services strip of a cell: each service's status, its port as a link through Hive's proxy (so it
 * works from a remote browser too), "Own origin" for a full-fidelity preview on a browser on Hive's own
 * machine, restart and stop, and its log as a read-only terminal; plus the cell's CPU and memory.
 */
@customElement("hive-services-strip")
export class HiveServicesStrip extends LitElement {
  static override styles = [
    buttonStyles,
    statusStyles,
    css`
      :host {
        display: block;
        border-bottom: 1px solid var(--hive-border);
        background: var(--hive-panel);
        font-size: 12px;
      }
      .bar {
        display: flex;
        align-items: center;
        flex-wrap: wrap;
        gap: 6px 14px;
        padding: 5px 14px;
      }
      .svc {
        display: inline-flex;
        align-items: center;
        gap: 6px;
      }
      .name {
        font-weight: 600;
      }
      .badge.starting,
      .badge.restarting,
      .badge.stopping {
        color: var(--hive-running);
      }
      .badge.stopped,
      .badge.exited {
        color: var(--hive-idle);
      }
      a {
        color: var(--hive-accent, inherit);
        font-family: var(--hive-mono);
      }
      button {
        padding: 1px 6px;
        font-size: 11px;
      }
      button[aria-pressed="true"] {
        outline: 1px solid currentColor;
      }
      .figures,
      .error {
        margin-left: auto;
        color: var(--hive-muted);
        font-family: var(--hive-mono);
      }
      .error {
        color: var(--hive-error);
        margin-left: 0;
      }
      .spark {
        vertical-align: middle;
      }
      .detail {
        padding: 2px 14px 6px;
        color: var(--hive-error);
        font-family: var(--hive-mono);
      }
      /* The output's last lines are the ones that say why: the box opens scrolled to its end. */
      .detail .tail {
        max-height: 7em;
        overflow: auto;
        display: flex;
        flex-direction: column-reverse;
      }
      .detail pre {
        margin: 0;
        white-space: pre-wrap;
        font: inherit;
      }
      hive-terminal-pane {
        height: 220px;
        border-top: 1px solid var(--hive-border);
      }
    `,
  ];

  @property({ attribute: false }) cell!: Cell;
  /** The service whose log is open below the strip. */
  @state() private logOf: string | undefined;
  private store: ServicesStore | undefined;
  private logSession: ServiceLogSession | undefined;
  private offs: (() => void)[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.cell) this.bindStore();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unbind();
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("cell") && this.isConnected && this.store?.cellId !== this.cell.id) this.bindStore();
  }

  override render() {
    const store = this.store;
    if (!store || (store.services.value.length === 0 && !store.resources.value)) return nothing;
    const services = store.services.value;
    const failed = services.filter((s) => s.status === "error" && s.detail);
    return html`
      <div class="bar" role="group" aria-label="Services">
        ${services.map((s) => this.service(s))}
        ${services.length > 0 ? this.allButtons(services) : nothing}
        ${store.error.value ? html`<span class="error" role="alert">${store.error.value}</span>` : nothing}
        ${this.figures()}
      </div>
      ${failed.map((s) => this.failure(s.name, s.detail!))}
      ${
        this.logOf && this.logSession
          ? html`<hive-terminal-pane .session=${this.logSession} active data-log=${this.logOf}></hive-terminal-pane>`
          : nothing
      }
    `;
  }

  /** Why a service failed (the detail's first line), over the tail of its output. */
  private failure(name: string, detail: string) {
    const [why, ...tail] = detail.split("\n");
    return html`<div class="detail" data-service=${name}>
      <div class="why">${name}: ${why}</div>
      ${tail.length > 0 ? html`<div class="tail"><pre>${tail.join("\n")}</pre></div>` : nothing}
    </div>`;
  }

  private service(s: ServiceState) {
    const store = this.store!;
    const running = s.status === "ready" || s.status === "starting" || s.status === "restarting";
    return html`<span class="svc" data-service=${s.name}>
      <span class="name">${s.name}</span>
      <span class="badge ${s.status}" data-status=${s.status} title=${s.detail ?? `${s.restarts} restarts`}>${s.status}</span>
      ${
        s.port !== null && s.proxyPath
          ? html`<a href=${s.proxyPath} target="_blank" rel="noopener" title="Open through Hive (${s.url} on the Hive machine)"
            >:${s.port}</a
          >`
          : nothing
      }
      ${
        s.port !== null && s.status === "ready" && LOOPBACK_PAGE
          ? html`<button
              title="Open on its own origin (${this.cell.id}--${s.name}.localhost): its own storage and service workers, still unable to act as you"
              @click=${() => void store.openOwnOrigin(s.name)}
            >
              Own origin
            </button>`
          : nothing
      }
      ${
        running
          ? html`<button @click=${() => void store.act("restart", s.name)}>Restart</button>
            <button @click=${() => void store.act("stop", s.name)}>Stop</button>`
          : html`<button @click=${() => void store.act("start", s.name)}>Start</button>`
      }
      <button aria-pressed=${this.logOf === s.name} @click=${() => this.showLog(this.logOf === s.name ? undefined : s.name)}>
        Log
      </button>
    </span>`;
  }

  private allButtons(services: ServiceState[]) {
    const store = this.store!;
    return html`<button @click=${() => void store.act("restart")} title="Restart every service">Restart all</button>
      ${
        services.some((s) => s.status === "ready" || s.status === "starting")
          ? html`<button @click=${() => void store.act("stop")}>Stop all</button>`
          : html`<button @click=${() => void store.act("start")}>Start all</button>`
      }`;
  }

  private figures() {
    const r = this.store?.resources.value;
    if (!r) return nothing;
    return html`<span class="figures" title="CPU and memory of the cell's processes (${r.processes}), with its share of the agent's CPU"
      >${this.sparkline()} CPU ${r.cpuPercent.toFixed(1)}% · ${mb(r.rssBytes)} MB${this.agentShare(r)}</span
    >`;
  }

  /**
   * The workspace's one OpenCode server serves every cell: a cell shows the share of its CPU it caused
   * (split among the cells whose agents were busy), and its memory as shared by all the workspace's cells.
   */
  private agentShare(r: ResourceSample) {
    const agent = r.bySource.agent;
    if (!agent) return nothing;
    const server = this.store?.agentServer.value;
    const overhead =
      server && server.busyCells === 0 && server.cpuPercent > 0
        ? html` · workspace agent overhead ${server.cpuPercent.toFixed(1)}% CPU (no agent busy)`
        : nothing;
    return html` · <span
        class="agent-share"
        title="The workspace's OpenCode server serves every cell: this cell's share of its CPU, split evenly among the cells whose agents were busy, and its memory, which every cell of the workspace shares"
        >agent share ${agent.cpuPercent.toFixed(1)}% CPU · ${mb(agent.rssBytes)} MB shared${overhead}</span
      >`;
  }

  /** The last hour of CPU use, scaled to its own peak. */
  private sparkline() {
    const samples = this.store?.history.value ?? [];
    if (samples.length < 2) return nothing;
    const peak = Math.max(1, ...samples.map((s) => s.cpuPercent));
    const points = samples
      .map(
        (s, i) =>
          `${((i / (samples.length - 1)) * 60).toFixed(1)},${(14 - (s.cpuPercent / peak) * 12).toFixed(1)}`,
      )
      .join(" ");
    return html`<svg class="spark" width="60" height="16" viewBox="0 0 60 16" role="img" aria-label="CPU, last hour, peak ${peak.toFixed(0)}%">
      ${svg`<polyline points=${points} fill="none" stroke="currentColor" stroke-width="1" />`}
    </svg>`;
  }

  /**
   * A link printed in one of the cell's terminals, as this browser can open it: `localhost:<port>` of one
   * of the cell's services goes through Hive's proxy, as the strip's own links do. Even a page at
   * localhost may be on another machine (through an SSH tunnel), where that port is not the service's.
   * Undefined: as printed.
   */
  linkThroughHive(uri: string): string | undefined {
    return throughHive(uri, this.store?.services.value ?? []);
  }

  private showLog(name: string | undefined): void {
    this.logSession?.dispose();
    this.logSession = name && this.store ? this.store.logSession(name) : undefined;
    this.logOf = name;
  }

  /** One store per cell shown: switching cells drops the old one's subscriptions and its open log. */
  private bindStore(): void {
    this.unbind();
    const store = new ServicesStore(hive.socket, this.cell.id);
    this.store = store;
    store.connect();
    this.offs = [store.services, store.resources, store.history, store.agentServer, store.error].map((s) =>
      s.subscribe(() => this.requestUpdate()),
    );
  }

  private unbind(): void {
    this.showLog(undefined);
    for (const off of this.offs.splice(0)) off();
    this.store?.dispose();
    this.store = undefined;
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-services-strip": HiveServicesStrip;
  }
}
