import { css, html, LitElement, nothing } from "lit";
import { customElement, property } from "lit/decorators.js";
import { styleMap } from "lit/directives/style-map.js";

/** No pane is dragged narrower than this share of the width. */
const MIN_FRACTION = 0.12;
const KEY_STEP = 0.03;

/**
 * Panes side by side with draggable gutters between them (or stacked on a narrow screen). Children
 * go in slots `pane-0`, `pane-1`, …; sizes are fractions of the width, and every finished drag is
 * reported as `sizes-changed` so the owner can remember it.
 */
@customElement("hive-split")
export class HiveSplit extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      min-height: 0;
      min-width: 0;
    }
    .pane {
      display: flex;
      min-width: 0;
      min-height: 0;
      overflow: hidden;
    }
    .pane > slot::slotted(*) {
      flex: 1;
      min-width: 0;
      min-height: 0;
    }
    .gutter {
      flex: 0 0 6px;
      cursor: col-resize;
      background: var(--hive-border);
      border: none;
      padding: 0;
      opacity: 0.6;
    }
    .gutter:hover,
    .gutter:focus-visible,
    .gutter.dragging {
      background: var(--hive-accent);
      opacity: 1;
      outline: none;
    }
    @media (max-width: 900px) {
      :host {
        flex-direction: column;
      }
      .pane {
        flex: 1 1 0 !important;
      }
      .gutter {
        display: none;
      }
    }
  `;

  @property({ type: Number }) count = 1;
  @property({ attribute: false }) sizes: number[] = [];
  /** Relative widths before anyone drags a gutter (missing entries count 1). */
  @property({ attribute: false }) weights: number[] = [];

  private dragging = -1;

  override render() {
    const sizes = normalise(this.sizes, this.count, this.weights);
    const parts = [];
    for (let i = 0; i < this.count; i++) {
      if (i > 0) {
        parts.push(html`<button
          class="gutter ${this.dragging === i - 1 ? "dragging" : ""}"
          role="separator"
          aria-orientation="vertical"
          aria-label="Resize panes"
          aria-valuenow=${Math.round((sizes[i - 1] ?? 0) * 100)}
          @pointerdown=${(e: PointerEvent) => this.startDrag(e, i - 1)}
          @keydown=${(e: KeyboardEvent) => this.onGutterKey(e, i - 1)}
        ></button>`);
      }
      parts.push(
        html`<div class="pane" style=${styleMap({ flex: `${sizes[i]} 1 0` })}><slot name="pane-${i}"></slot></div>`,
      );
    }
    return parts.length ? parts : nothing;
  }

  private startDrag(e: PointerEvent, gutter: number): void {
    e.preventDefault();
    const target = e.currentTarget as HTMLElement;
    target.setPointerCapture(e.pointerId);
    this.dragging = gutter;
    this.requestUpdate();
    const start = normalise(this.sizes, this.count, this.weights);
    const width = this.getBoundingClientRect().width || 1;
    const x0 = e.clientX;
    const move = (ev: PointerEvent) => {
      this.sizes = resize(start, gutter, (ev.clientX - x0) / width);
    };
    const up = () => {
      target.removeEventListener("pointermove", move);
      target.removeEventListener("pointerup", up);
      target.removeEventListener("pointercancel", up);
      this.dragging = -1;
      this.requestUpdate();
      this.dispatchEvent(
        new CustomEvent("sizes-changed", { detail: this.sizes, bubbles: true, composed: true }),
      );
    };
    target.addEventListener("pointermove", move);
    target.addEventListener("pointerup", up);
    target.addEventListener("pointercancel", up);
  }

  private onGutterKey(e: KeyboardEvent, gutter: number): void {
    const delta = e.key === "ArrowLeft" ? -KEY_STEP : e.key === "ArrowRight" ? KEY_STEP : 0;
    if (!delta) return;
    e.preventDefault();
    this.sizes = resize(normalise(this.sizes, this.count, this.weights), gutter, delta);
    this.dispatchEvent(
      new CustomEvent("sizes-changed", { detail: this.sizes, bubbles: true, composed: true }),
    );
  }
}

/** Sizes that fit `count` panes: missing or broken ones fall back to the weights, the total becomes 1. */
export function normalise(sizes: number[], count: number, weights: number[] = []): number[] {
  const valid = sizes.length === count && sizes.every((s) => Number.isFinite(s) && s > 0);
  const base = valid ? sizes : Array.from({ length: count }, (_, i) => weights[i] ?? 1);
  const total = base.reduce((a, b) => a + b, 0) || 1;
  return base.map((s) => s / total);
}

/** Moves the gutter after pane `i` by `delta` of the width, keeping both neighbours above the minimum. */
export function resize(sizes: number[], i: number, delta: number): number[] {
  const a = sizes[i] ?? 0;
  const b = sizes[i + 1] ?? 0;
  const d = Math.max(MIN_FRACTION - a, Math.min(b - MIN_FRACTION, delta));
  return sizes.map((s, j) => (j === i ? a + d : j === i + 1 ? b - d : s));
}

declare global {
  interface HTMLElementTagNameMap {
    "hive-split": HiveSplit;
  }
}
