import { css, html, LitElement, nothing } from "lit";
import { customElement, state } from "lit/decorators.js";
import { keyed } from "lit/directives/keyed.js";
import type { Cell, TemplatesResponse } from "../../shared/records.ts";
import { hive } from "../context.ts";
import { newCellRoute, stepCellRoute } from "../navigation.ts";
import type { Route } from "../router.ts";
import { shortcutOf } from "../shortcuts.ts";
import { StoreController } from "../store.ts";
import { OpenCellStore } from "../stores/open-cell.ts";
import "./cell-create.ts";
import type { CreateCellDetail } from "./cell-create.ts";
import { cellViewLoadError, loadCellView, prefetchCellViewAfter } from "./cell-view-loader.ts";
import "./cell-list.ts";
import type { HiveCellList } from "./cell-list.ts";
import type { HiveCellView } from "./cell-view.ts";
import "./connection-banner.ts";
import "./provisioning-checklist.ts";
import "./shortcuts-overlay.ts";
import "./sign-in.ts";
import "./timings-view.ts";
import "./waiting-inbox.ts";
import { buttonStyles } from "./styles.ts";

/**
 * The app shell: routing, the sidebar, the screen for the current route, the connection banner and
 * the keyboard shortcuts. It owns the stores; every component below gets data as properties.
 */
@customElement("hive-app")
export class HiveApp extends LitElement {
  static override styles = [
    buttonStyles,
    css`
      :host {
        display: grid;
        grid-template-rows: auto 1fr;
        height: 100%;
      }
      .shell {
        display: grid;
        grid-template-columns: 250px 1fr;
        min-height: 0;
      }
      main {
        min-width: 0;
        min-height: 0;
        display: flex;
        flex-direction: column;
        overflow: auto;
      }
      main > * {
        flex: 1;
        min-height: 0;
      }
      .home {
        padding: 32px;
        color: var(--hive-muted);
        line-height: 1.6;
      }
      .home h1 {
        color: var(--hive-text);
        font-size: 20px;
      }
      .home .deleted {
        display: inline-block;
        margin: 0;
        padding: 6px 12px;
        border: 1px solid var(--hive-border);
        border-radius: var(--hive-radius);
        background: var(--hive-panel);
        color: var(--hive-text);
      }
      .menu {
        display: none;
      }
      @media (max-width: 900px) {
        .shell {
          grid-template-columns: 210px 1fr;
        }
      }
      @media (max-width: 640px) {
        .shell {
          grid-template-columns: 1fr;
        }
        hive-cell-list {
          display: none;
        }
        .shell.menu-open hive-cell-list {
          display: flex;
          position: fixed;
          inset: 0 20% 0 0;
          z-index: 10;
        }
        .menu {
          display: block;
          position: fixed;
          right: 10px;
          bottom: 10px;
          z-index: 11;
        }
      }
    `,
  ];

  @state() private templates: TemplatesResponse | undefined;
  @state() private templatesError: string | undefined;
  @state() private busy = false;
  @state() private actionError: string | undefined;
  @state() private addWorkspaceError: string | undefined;
  /** Adding a repository Hive already has changes nothing in the list: this says so. */
  @state() private addWorkspaceNote: string | undefined;
  @state() private removeWorkspaceError: { workspaceId: string; message: string } | undefined;
  @state() private showShortcuts = false;
  @state() private menuOpen = false;
  private everConnected = false;
  /** The cell on screen was deleted, maybe from another window: home says so instead of it just vanishing. */
  @state() private deletedCell: string | undefined;
  private readonly openCell = new OpenCellStore(hive.socket, (_cellId, name) => {
    this.go({ name: "home" }, true);
    this.deletedCell = name ?? "";
  });
  private offs: (() => void)[] = [];

  constructor() {
    super();
    new StoreController(this, () => [
      hive.session.state,
      hive.socket.state,
      hive.router.route,
      hive.workspaces.list,
      hive.cells.byId,
      hive.timings.events,
      hive.timings.error,
      this.openCell.current,
      cellViewLoadError,
    ]);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener("keydown", this.onKey, true);
    this.offs.push(
      hive.socket.state.subscribe((s) => {
        if (s.kind === "open") this.everConnected = true;
      }),
      hive.workspaces.list.subscribe((list) => hive.cells.watch(list.map((w) => w.id))),
      prefetchCellViewAfter(hive.cells.byId),
      hive.router.route.subscribe((r) => this.enter(r)),
      this.reloadTemplatesOnConfigChange(),
    );
    void this.boot();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener("keydown", this.onKey, true);
    for (const off of this.offs) off();
    this.offs = [];
    this.openCell.close();
  }

  /** The first API call tells whether this tab is signed in (a 401 shows the sign-in screen). */
  private async boot(): Promise<void> {
    // The socket and the first API call go out together, so the first screen waits for one round trip.
    hive.socket.start();
    this.offs.push(hive.workspaces.start());
    this.enter(hive.router.route.value);
    try {
      await hive.workspaces.load();
      hive.session.confirm();
    } catch {
      // Without a session the socket is refused too: stop retrying it behind the sign-in screen.
      if (hive.session.state.value === "signed-out") hive.socket.stop();
    }
  }

  override render() {
    const session = hive.session.state.value;
    if (session === "signed-out") return html`<div></div><hive-sign-in></hive-sign-in>`;
    const route = hive.router.route.value;
    const cellId = route.name === "cell" ? route.cellId : undefined;
    return html`
      <hive-connection-banner
        .connection=${hive.socket.state.value}
        .everConnected=${this.everConnected}
        @retry-now=${() => hive.socket.retryNow()}
      ></hive-connection-banner>
      <hive-waiting-inbox></hive-waiting-inbox>
      <div class="shell ${this.menuOpen ? "menu-open" : ""}">
        <hive-cell-list
          .workspaces=${hive.workspaces.list.value}
          .cells=${[...hive.cells.byId.value.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt))}
          .selectedCellId=${cellId}
          .addError=${this.addWorkspaceError}
          .addNote=${this.addWorkspaceNote}
          .adding=${this.busy}
          @cell-selected=${(e: CustomEvent<{ cellId: string }>) => this.go({ name: "cell", cellId: e.detail.cellId })}
          @new-cell=${(e: CustomEvent<{ workspaceId: string }>) =>
            this.go({ name: "new-cell", workspaceId: e.detail.workspaceId })}
          @add-workspace=${(e: CustomEvent<{ path: string }>) => void this.addWorkspace(e.detail.path)}
          .removeError=${this.removeWorkspaceError}
          @remove-workspace=${(e: CustomEvent<{ workspaceId: string }>) => void this.removeWorkspace(e.detail.workspaceId)}
          @show-timings=${() => this.go({ name: "timings", cellId: "", step: "" })}
          @show-shortcuts=${() => {
            this.showShortcuts = true;
          }}
        ></hive-cell-list>
        <main>${this.screen(route)}</main>
        <button class="menu" @click=${() => (this.menuOpen = !this.menuOpen)} aria-label="Cells">☰</button>
      </div>
      ${
        this.showShortcuts
          ? html`<hive-shortcuts
            @close=${() => {
              this.showShortcuts = false;
            }}
          ></hive-shortcuts>`
          : nothing
      }
    `;
  }

  private screen(route: Route) {
    switch (route.name) {
      case "home":
        return this.home();
      case "new-cell":
        return html`<hive-cell-create
          .workspace=${hive.workspaces.list.value.find((w) => w.id === route.workspaceId)}
          .templates=${this.templates}
          .loadError=${this.templatesError}
          .submitError=${this.actionError}
          .busy=${this.busy}
          @create-cell=${(e: CustomEvent<CreateCellDetail>) => void this.createCell(e.detail)}
          @reload-templates=${() => void this.loadTemplates(route.workspaceId)}
        ></hive-cell-create>`;
      case "cell":
        return this.cellScreen(route.cellId);
      case "timings":
        return this.timingsScreen();
    }
  }

  private home() {
    const ws = hive.workspaces.list.value;
    return html`<section class="home">
      ${
        this.deletedCell !== undefined
          ? html`<p class="deleted" role="status">
              ${this.deletedCell ? html`The cell <strong>${this.deletedCell}</strong>` : "The cell"} was deleted.
            </p>`
          : nothing
      }
      <h1>Welcome to Hive</h1>
      ${
        ws.length === 0
          ? html`<p>Add a git repository by its path in the sidebar to start.</p>`
          : html`<p>Pick a cell on the left, or make a new one with <kbd>Alt</kbd>+<kbd>N</kbd>.</p>`
      }
      <p>Press <kbd>?</kbd> for keyboard shortcuts.</p>
    </section>`;
  }

  private cellScreen(cellId: string) {
    const open = this.openCell.current.value?.cellId === cellId ? this.openCell.current.value : undefined;
    const detail = open?.cell.detail.value;
    const cell: Cell | undefined = detail?.cell ?? hive.cells.byId.value.get(cellId);
    if (!open || !cell) {
      return html`<section class="home"><p>${detail?.removed ? "This cell was deleted." : "Loading cell…"}</p></section>`;
    }
    if (cell.status === "ready") {
      void loadCellView();
      const loadError = cellViewLoadError.value;
      if (loadError)
        return html`<section class="home" role="status">
          <p>Fetching the cell view failed (${loadError}); trying again.</p>
          <p>If Hive was upgraded meanwhile, <button @click=${() => location.reload()}>reload the page</button>.</p>
        </section>`;
      return keyed(
        cellId,
        html`<hive-cell-view
          .cell=${cell}
          .terminals=${open.terminals}
          .background=${detail?.steps.filter((s) => !s.gatesReady) ?? []}
          @cell-delete=${() => void this.deleteCell(cellId)}
          @cell-archive=${() => void this.run(() => hive.cells.archive(cellId))}
        ></hive-cell-view>`,
      );
    }
    if (cell.status === "archived") {
      return html`<section class="home">
        <h1>${cell.name} is archived</h1>
        <p>Its worktree and branch are kept; nothing runs.</p>
        <button class="primary" @click=${() => void this.run(() => hive.cells.restore(cellId))}>Restore</button>
        <button class="danger" @click=${() => void this.deleteCell(cellId)}>Delete</button>
      </section>`;
    }
    return html`<hive-provisioning-checklist
      .cell=${cell}
      .steps=${detail?.steps ?? []}
      .output=${detail?.output ?? ""}
      .busy=${this.busy}
      .actionError=${this.actionError}
      @cell-retry=${() => void this.run(() => hive.cells.retry(cellId))}
      @cell-delete=${() => void this.deleteCell(cellId)}
    ></hive-provisioning-checklist>`;
  }

  private timingsScreen() {
    const events = hive.timings.events.value;
    const names = new Map<string, string>();
    for (const c of hive.cells.byId.value.values()) names.set(c.id, c.name);
    for (const [id, name] of hive.timings.cellNames) if (!names.has(id)) names.set(id, `${name} (deleted)`);
    return html`<hive-timings
      .events=${events}
      .filter=${hive.timings.filter.value}
      .cellNames=${[...names].map(([id, name]) => ({ id, name }))}
      .steps=${[...hive.timings.steps].sort()}
      .error=${hive.timings.error.value}
      @timings-filter=${(e: CustomEvent<{ cellId: string; step: string }>) =>
        this.go({ name: "timings", ...e.detail }, true)}
    ></hive-timings>`;
  }

  /** Loads what a route needs and releases what the previous one held. */
  private enter(route: Route): void {
    this.actionError = undefined;
    this.deletedCell = undefined;
    this.menuOpen = false;
    if (route.name !== "cell") this.openCell.close();
    if (hive.session.state.value === "signed-out") return;
    if (route.name === "cell") this.openCell.show(route.cellId);
    if (route.name === "new-cell") void this.loadTemplates(route.workspaceId);
    if (route.name === "timings") void hive.timings.load({ cellId: route.cellId, step: route.step });
  }

  /** A new-cell form follows its workspace's hive.config.json as the person edits it. */
  private reloadTemplatesOnConfigChange(): () => void {
    const onChange = (workspaceId: string) => {
      const route = hive.router.route.value;
      if (route.name === "new-cell" && route.workspaceId === workspaceId)
        void this.loadTemplates(workspaceId, true);
    };
    hive.cells.configChanged.add(onChange);
    return () => hive.cells.configChanged.delete(onChange);
  }

  /** `again`: the config changed under an open form, which keeps showing what it has until the new one comes. */
  private async loadTemplates(workspaceId: string, again = false): Promise<void> {
    if (!again) this.templates = undefined;
    this.templatesError = undefined;
    try {
      this.templates = await hive.cells.templates(workspaceId);
    } catch (err) {
      this.templatesError = (err as Error).message;
    }
  }

  private async createCell(d: CreateCellDetail): Promise<void> {
    await this.run(async () => {
      const cell = await hive.cells.create({
        workspaceId: d.workspaceId,
        templateId: d.templateId,
        name: d.name,
        ...(d.description.trim() ? { description: d.description } : {}),
      });
      this.go({ name: "cell", cellId: cell.id });
    });
  }

  private async deleteCell(cellId: string): Promise<void> {
    const cell = hive.cells.byId.value.get(cellId);
    if (
      !confirm(
        `Delete the cell “${cell?.name ?? cellId}”? Its worktree, terminals and services go with it. Work not yet merged, committed or not, stays on its branch, listed under “Kept branches”.`,
      )
    )
      return;
    await this.run(() => hive.cells.delete(cellId));
  }

  private async removeWorkspace(workspaceId: string): Promise<void> {
    const ws = hive.workspaces.list.value.find((w) => w.id === workspaceId);
    if (
      !ws ||
      !confirm(`Remove the workspace “${ws.name}” from Hive? The repository at ${ws.path} stays as it is.`)
    )
      return;
    this.removeWorkspaceError = undefined;
    try {
      await hive.workspaces.remove(workspaceId);
      const route = hive.router.route.value;
      if (route.name === "new-cell" && route.workspaceId === workspaceId) this.go({ name: "home" }, true);
    } catch (err) {
      this.removeWorkspaceError = { workspaceId, message: (err as Error).message };
    }
  }

  private async addWorkspace(path: string): Promise<void> {
    this.busy = true;
    this.addWorkspaceNote = undefined;
    try {
      const known = new Set(hive.workspaces.list.value.map((w) => w.id));
      const added = await hive.workspaces.add(path);
      if (known.has(added.id)) this.addWorkspaceNote = `${added.name} is already in Hive (${added.path}).`;
      this.addWorkspaceError = undefined;
      this.renderRoot.querySelector<HiveCellList>("hive-cell-list")?.clearPath();
    } catch (err) {
      this.addWorkspaceError = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  /** Runs a command, showing its error where the person is looking. */
  private async run(fn: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    this.actionError = undefined;
    try {
      await fn();
    } catch (err) {
      this.actionError = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private go(route: Route, replace = false): void {
    hive.router.go(route, { replace });
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    const s = shortcutOf(e, isTyping(e));
    if (!s) return;
    const route = hive.router.route.value;
    if (s.action === "escape") {
      if (!this.showShortcuts) return;
      this.showShortcuts = false;
    } else if (s.action === "help") this.showShortcuts = true;
    else if (s.action === "new-cell")
      this.goTo(newCellRoute(route, hive.cells.byId.value, hive.workspaces.list.value));
    else if (s.action === "next-cell" || s.action === "prev-cell") {
      const order = hive.workspaces.list.value.flatMap((w) => hive.cells.of(w.id));
      this.goTo(stepCellRoute(route, order, s.action === "next-cell" ? 1 : -1));
    } else if (s.action === "new-terminal") {
      const view = this.cellView();
      if (view) void view.openTerminal();
      else void this.openCell.current.value?.terminals.open();
    } else if (s.action === "focus-pane") this.cellView()?.focusPane(Number(e.code.slice(5)) - 1);
    e.preventDefault();
    e.stopPropagation();
  };

  private goTo(route: Route | undefined): void {
    if (route) this.go(route);
  }

  private cellView(): HiveCellView | null {
    return this.renderRoot.querySelector("hive-cell-view");
  }
}

/** Keys typed into a field or a terminal are the person's text, not shortcuts (except Alt chords). */
function isTyping(e: KeyboardEvent): boolean {
  const el = e.composedPath()[0];
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-app": HiveApp;
  }
}
