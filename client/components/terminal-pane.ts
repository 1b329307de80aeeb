import { FitAddon } from "@xterm/addon-fit";
import { type ISearchOptions, SearchAddon } from "@xterm/addon-search";
import { WebLinksAddon } from "@xterm/addon-web-links";
import { type ITheme, Terminal } from "@xterm/xterm";
import xtermCss from "@xterm/xterm/css/xterm.css?inline";
import { css, html, LitElement, type PropertyValues, unsafeCSS } from "lit";
import { customElement, property, state } from "lit/decorators.js";
import { xtermAtRest } from "../../shared/rest-tracker.ts";
import { linesThatCanShow } from "../../shared/waiting-output.ts";
import { hasRealGpu } from "../gpu.ts";
import type { TerminalSession, TerminalSink, TerminalSize } from "../terminal-session.ts";
import { syncScrollbarOncePerFrame } from "../xterm-scrollbar.ts";
import { buttonStyles, countOf } from "./styles.ts";

/** Resizes settle before the PTY hears of them: a drag of the splitter is one resize, not fifty. */
const RESIZE_SETTLE_MS = 60;

/**
 * One xterm bound to one terminal session: fits its pane, copies and pastes, opens links, and uses
 * the WebGL renderer only on a real GPU.
 */
@customElement("hive-terminal-pane")
export class HiveTerminalPane extends LitElement {
  static override styles = [
    // Before xterm's own: its hidden input keeps xterm's look.
    buttonStyles,
    unsafeCSS(xtermCss),
    css`
      :host {
        display: block;
        position: relative;
        min-height: 0;
        background: var(--hive-term-bg);
      }
      .host {
        position: absolute;
        inset: 4px 0 0 6px;
        /* A flood re-renders rows many times a second: keep their style, layout and paint work inside. */
        contain: strict;
      }
      .notice {
        position: absolute;
        right: 10px;
        bottom: 8px;
        padding: 4px 8px;
        border-radius: var(--hive-radius);
        background: var(--hive-panel);
        border: 1px solid var(--hive-border);
        color: var(--hive-muted);
        font-size: 12px;
      }
      .overlays {
        position: absolute;
        top: 6px;
        right: 10px;
        display: flex;
        flex-direction: column;
        align-items: flex-end;
        gap: 6px;
      }
      .find,
      .sizing {
        display: flex;
        align-items: center;
        gap: 8px;
        padding: 3px 4px 3px 8px;
        border-radius: var(--hive-radius);
        background: var(--hive-panel);
        border: 1px solid var(--hive-border);
        color: var(--hive-muted);
        font-size: 12px;
      }
      .find input {
        width: 180px;
        padding: 2px 6px;
      }
      .find .count {
        min-width: 64px;
        text-align: right;
      }
      .overlays button {
        padding: 1px 8px;
      }
    `,
  ];

  @property({ attribute: false }) session: TerminalSession | undefined;
  /** Hidden panes keep their screen and keep reading output; they only stop fitting. */
  @property({ type: Boolean, reflect: true }) active = false;
  @state() private notice = "";
  /** The find bar (Ctrl+Shift+F): open or not, what it looks for, and where among the matches it is. */
  @state() private finding = false;
  @state() private findText = "";
  @state() private found: { index: number; count: number } | undefined;
  /** The shell's size while another window sets it (see TerminalSession.sizedElsewhere). */
  @state() private sizedElsewhere: TerminalSize | undefined;

  private term: Terminal | undefined;
  /** Whether xterm's scrollbar follows output once per frame (see xterm-scrollbar.ts); for tests. */
  scrollbarOncePerFrame = false;
  private fit: FitAddon | undefined;
  private search: SearchAddon | undefined;
  private detach: (() => void) | undefined;
  private offStatus: (() => void) | undefined;
  private offSizing: (() => void) | undefined;
  /** What fits the pane, as last measured. */
  private fitted: TerminalSize | undefined;
  /** A screen row's height on the page, as measured at this row count (see followCursor). */
  private rowHeight = { rows: 0, px: 0 };
  private observer: ResizeObserver | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private teardownTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly scheme = matchMedia("(prefers-color-scheme: dark)");
  private readonly onScheme = () => {
    if (this.term) this.term.options.theme = this.theme();
  };

  override render() {
    const elsewhere = this.sizedElsewhere;
    // xterm takes clicks on its screen only; a screen sized by another window may not fill the pane.
    return html`<div class="host" part="terminal" @click=${() => this.term?.focus()}></div>
      <div class="overlays">
        ${this.finding ? this.findBar() : null}
        ${
          elsewhere
            ? html`<div class="sizing" role="status">
                Sized by another window (${elsewhere.cols}×${elsewhere.rows})
                <button @click=${this.fitHere}>Fit to this window</button>
              </div>`
            : null
        }
      </div>
      ${this.notice ? html`<div class="notice" role="status">${this.notice}</div>` : null}`;
  }

  override firstUpdated(): void {
    const host = this.renderRoot.querySelector<HTMLElement>(".host")!;
    const term = new Terminal({
      fontFamily: getComputedStyle(this).getPropertyValue("--hive-mono").trim() || "monospace",
      fontSize: 13,
      scrollback: 10_000,
      cursorBlink: true,
      allowProposedApi: true,
      theme: this.theme(),
    });
    this.term = term;
    this.fit = new FitAddon();
    term.loadAddon(this.fit);
    this.search = new SearchAddon();
    term.loadAddon(this.search);
    this.search.onDidChangeResults(({ resultIndex, resultCount }) => {
      this.found = { index: resultIndex, count: resultCount };
    });
    term.loadAddon(
      new WebLinksAddon((event, uri) => {
        event.preventDefault();
        // The cell view may open it through Hive instead (a link to one of the cell's services).
        const link = new CustomEvent("terminal-link", {
          detail: { uri },
          bubbles: true,
          composed: true,
          cancelable: true,
        });
        if (this.dispatchEvent(link)) window.open(uri, "_blank", "noopener,noreferrer");
      }),
    );
    term.attachCustomKeyEventHandler((e) => this.onKey(e));
    term.open(host);
    this.scrollbarOncePerFrame = syncScrollbarOncePerFrame(term);
    if (hasRealGpu()) void this.loadWebgl(term);
    term.onData((data) => this.session?.input(data));
    term.onCursorMove(() => this.followCursor());
    // Focusing a terminal (a click, a shortcut, the window coming back to the front) is using it.
    term.textarea?.addEventListener("focus", () => this.session?.claimSize());
    this.observer = new ResizeObserver(() => this.scheduleFit());
    this.observer.observe(this);
    this.scheme.addEventListener("change", this.onScheme);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.bind();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has("session") && changed.get("session") !== undefined) this.bind();
    if (changed.has("active") && this.active) this.scheduleFit();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    clearTimeout(this.teardownTimer);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // A pane that is only moved (tabs reordered, layout changed) is reconnected in the same task:
    // it keeps its xterm. One that stays out is torn down.
    this.teardownTimer = setTimeout(() => this.teardown(), 0);
  }

  private teardown(): void {
    this.detach?.();
    this.offStatus?.();
    this.offSizing?.();
    this.observer?.disconnect();
    clearTimeout(this.resizeTimer);
    this.scheme.removeEventListener("change", this.onScheme);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.term?.dispose();
    this.term = undefined;
  }

  override focus(): void {
    this.term?.focus();
  }

  /** The visible text of the screen, for tests and accessibility tools. */
  screenText(): string {
    const buf = this.term?.buffer.active;
    if (!buf) return "";
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n");
  }

  private readonly onVisibility = (): void => {
    if (!document.hidden) {
      if (!this.detach) this.bind();
      return;
    }
    // Someone scrolled up into the history keeps their place: a fresh screen would start at the bottom.
    const buffer = this.term?.buffer.active;
    if (buffer && buffer.viewportY < buffer.baseY) return;
    this.detach?.();
    this.detach = undefined;
  };

  private bind(): void {
    this.detach?.();
    this.offStatus?.();
    this.offSizing?.();
    const term = this.term;
    const session = this.session;
    if (!term || !session) return;
    const sink: TerminalSink = {
      reset: (screen, cols, rows) => {
        term.reset();
        // The screen replays exactly only at the size it was serialized at; fitting comes after.
        if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
        if (screen) term.write(screen);
        this.scheduleFit();
      },
      write: (data, done) => term.write(data, done),
      keepLines: () => linesThatCanShow(term.options.scrollback ?? 0, term.rows),
      atRest: () => xtermAtRest(term),
    };
    // A page nobody can see takes no output: Chrome runs a hidden page's timers a few milliseconds a
    // second, and output the page cannot keep up with holds the shell back. It gets the screen afresh
    // when it is shown again (see onVisibility).
    this.detach = document.hidden ? undefined : session.attach(sink);
    this.offStatus = session.status.subscribe((s) => {
      if (s.status === "exited")
        this.notice = `shell exited${s.exitCode != null ? ` with code ${s.exitCode}` : ""}`;
      else if (s.status === "gone") this.notice = `this terminal is gone (${s.message ?? "closed"})`;
      else this.notice = s.message ?? ""; // input typed while disconnected: waiting, or not sent
    });
    this.offSizing = session.sizedElsewhere.subscribe((size) => {
      this.sizedElsewhere = size;
      this.sizeTerm(size ?? this.fitted);
    });
    this.sizedElsewhere = session.sizedElsewhere.value;
    this.scheduleFit();
  }

  private readonly fitHere = (): void => {
    this.session?.claimSize();
    this.term?.focus();
  };

  private sizeTerm(size: TerminalSize | undefined): void {
    if (this.term && size && (size.cols !== this.term.cols || size.rows !== this.term.rows))
      this.term.resize(size.cols, size.rows);
    this.followCursor();
  }

  /** A screen taller than the pane (sized by another window) is moved up to keep the cursor's line in view. */
  private followCursor(): void {
    const term = this.term;
    const el = term?.element;
    if (!term || !el || (!this.sizedElsewhere && !el.style.transform)) return;
    const visible = this.fitted?.rows ?? term.rows;
    const rowsUp = this.sizedElsewhere
      ? Math.max(0, Math.min(term.buffer.active.cursorY + 1 - visible, term.rows - visible))
      : 0;
    // This runs at every cursor move of a flood: the screen is measured (a forced layout) only when its
    // row count changed, and the style is written only when it changes.
    if (rowsUp > 0 && this.rowHeight.rows !== term.rows) {
      const height = el.querySelector(".xterm-screen")?.clientHeight ?? 0;
      this.rowHeight = { rows: term.rows, px: height / term.rows };
    }
    const transform = rowsUp > 0 ? `translateY(${-rowsUp * this.rowHeight.px}px)` : "";
    if (el.style.transform !== transform) el.style.transform = transform;
  }

  private scheduleFit(): void {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.fitNow(), RESIZE_SETTLE_MS);
  }

  private fitNow(): void {
    if (!this.term || !this.fit || !this.active || this.offsetWidth === 0 || this.offsetHeight === 0) return;
    const dims = this.fit.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return;
    this.fitted = { cols: Math.max(2, dims.cols), rows: Math.max(1, dims.rows) };
    this.sizeTerm(this.session?.fit(this.fitted.cols, this.fitted.rows) ?? this.fitted);
  }

  /**
   * A key typed here gives the shell this window's size. Ctrl+Shift+C copies the selection,
   * Ctrl+Shift+V pastes and Ctrl+Shift+F finds (plain Ctrl keys stay the shell's: Ctrl+C interrupts).
   */
  private onKey(e: KeyboardEvent): boolean {
    if (e.type === "keydown") this.session?.claimSize();
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyF") {
      e.preventDefault();
      void this.openFind();
      return false;
    }
    if (e.code === "KeyC") {
      const text = this.term?.getSelection();
      // Over plain http from another machine the page has no Clipboard API (not a secure context); a copy
      // command makes the browser fire its copy event instead, which xterm fills with the selection.
      if (text && navigator.clipboard)
        void navigator.clipboard.writeText(text).catch(() => document.execCommand("copy"));
      else if (text) document.execCommand("copy");
      e.preventDefault();
      return false;
    }
    // Let the browser fire its paste event, which xterm turns into (bracketed) input.
    if (e.code === "KeyV") return false;
    return true;
  }

  private findBar() {
    const found = this.found;
    const count = !this.findText
      ? ""
      : !found || found.count === 0
        ? "No match"
        : found.index < 0
          ? countOf(found.count, "match", "matches")
          : `${found.index + 1} of ${found.count}`;
    return html`<div class="find" role="search">
      <input
        aria-label="Find in the terminal"
        placeholder="Find"
        .value=${this.findText}
        @input=${(e: InputEvent) => this.findFrom((e.target as HTMLInputElement).value)}
        @keydown=${this.onFindKey}
      />
      <span class="count" role="status">${count}</span>
      <button title="Older match (Enter)" aria-label="Older match" @click=${() => this.findAgain(true)}>↑</button>
      <button title="Newer match (Shift+Enter)" aria-label="Newer match" @click=${() => this.findAgain(false)}>↓</button>
      <button title="Close (Esc)" aria-label="Close find" @click=${this.closeFind}>×</button>
    </div>`;
  }

  private async openFind(): Promise<void> {
    // A selection is what the person most likely wants to find.
    const selected = this.term?.getSelection().split("\n")[0];
    if (selected) this.findText = selected;
    this.finding = true;
    await this.updateComplete;
    const input = this.renderRoot.querySelector<HTMLInputElement>(".find input");
    input?.focus();
    input?.select();
    if (this.findText) this.findFrom(this.findText);
  }

  /** Matches are outlined; the one in front is selected (the theme's selection colours suit both themes). */
  private findOptions(incremental = false): ISearchOptions {
    const accent = getComputedStyle(this).getPropertyValue("--hive-accent").trim() || "#e0a526";
    return {
      incremental,
      decorations: {
        matchBorder: accent,
        matchOverviewRuler: accent,
        activeMatchBorder: accent,
        activeMatchColorOverviewRuler: accent,
      },
    };
  }

  /** Output is searched from the newest line up: what was just printed is what is looked for most. */
  private findFrom(text: string): void {
    this.findText = text;
    if (!text) {
      this.search?.clearDecorations();
      this.term?.clearSelection();
      this.found = undefined;
      return;
    }
    this.search?.findPrevious(text, this.findOptions(true));
  }

  private findAgain(older: boolean): void {
    if (!this.findText) return;
    if (older) this.search?.findPrevious(this.findText, this.findOptions());
    else this.search?.findNext(this.findText, this.findOptions());
  }

  private readonly onFindKey = (e: KeyboardEvent): void => {
    if (e.key === "Enter") {
      e.preventDefault();
      this.findAgain(!e.shiftKey);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.closeFind();
    }
  };

  private readonly closeFind = (): void => {
    this.finding = false;
    this.found = undefined;
    this.search?.clearDecorations();
    this.term?.focus();
  };

  private async loadWebgl(term: Terminal): Promise<void> {
    try {
      const { WebglAddon } = await import("@xterm/addon-webgl");
      const addon = new WebglAddon();
      addon.onContextLoss(() => addon.dispose());
      term.loadAddon(addon);
    } catch (err) {
      console.warn("hive: WebGL renderer unavailable, using the DOM renderer", err);
    }
  }

  private theme(): ITheme {
    const s = getComputedStyle(this);
    const v = (name: string) => s.getPropertyValue(name).trim();
    return {
      background: v("--hive-term-bg") || "#111418",
      foreground: v("--hive-term-fg") || "#e3e6ea",
      cursor: v("--hive-accent") || "#e0a526",
      selectionBackground: this.scheme.matches ? "#3a4a63" : "#b9d0f5",
    };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-terminal-pane": HiveTerminalPane;
  }
}
