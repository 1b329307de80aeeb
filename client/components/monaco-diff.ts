// The editor core with only what a read-only review needs: no language services (their workers would
// type-check files out of their project), monarch colouring for every language, find, hovers, icons.
import * as monaco from "monaco-editor/editor/editor.api";
import "monaco-editor/basic-languages/monaco.contribution";
import "monaco-editor/editor/browser/widget/diffEditor/diffEditor.contribution";
import "monaco-editor/editor/contrib/hover/browser/hoverContribution";
import "monaco-editor/features/find/register";
import "monaco-editor/features/codicon/register";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import type { ReviewComment } from "../../shared/diffs.ts";

/**
 * The Monaco diff editor behind the review pane. This module is only ever imported dynamically, so
 * Monaco (several MB) is its own chunk, loaded the first time someone opens a diff.
 */

// Only the editor worker (it computes diffs off the main thread); syntax colouring needs no worker.
self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

// Gutter marks for commented lines, added to the document or shadow root the editor lives in.
const GUTTER_STYLE = `
  .hive-comment-glyph { background: var(--hive-accent, #36c); border-radius: 50%; margin: 4px; width: 10px !important; height: 10px !important; }
  .hive-comment-glyph.resolved { background: var(--hive-muted, #888); }
  .hive-comment-line { background: rgba(255, 200, 0, 0.12); }
`;

export interface GutterClick {
  line: number;
  side: "old" | "new";
}

/** Something shown inside the diff, under a line of one side: a review comment or a comment form. */
export interface InlineZone {
  key: string;
  side: "old" | "new";
  line: number;
  /** Rendered by the caller; its first child's height decides the zone's. */
  node: HTMLElement;
}

interface PlacedZone extends InlineZone {
  id: string;
  zone: monaco.editor.IViewZone;
  widget: monaco.editor.IOverlayWidget;
}

/** Monaco's language for a path, by its extension or file name (plain text when unknown). */
function languageOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".")) : "";
  for (const lang of monaco.languages.getLanguages()) {
    if (lang.filenames?.some((f) => f.toLowerCase() === name)) return lang.id;
    if (ext && lang.extensions?.includes(ext)) return lang.id;
  }
  return "plaintext";
}

export class MonacoDiff {
  private readonly editor: monaco.editor.IStandaloneDiffEditor;
  private decorations: { old: string[]; new: string[] } = { old: [], new: [] };
  private models: monaco.editor.ITextModel[] = [];
  private zones = new Map<string, PlacedZone>();
  private readonly style = document.createElement("style");
  /** Zones grow and shrink with their content (an edit form opening, a long comment). */
  private readonly sizes = new ResizeObserver(() => this.layoutZones());

  constructor(host: HTMLElement, onGutter: (click: GutterClick) => void) {
    const root = host.getRootNode();
    this.style.textContent = GUTTER_STYLE;
    (root instanceof ShadowRoot ? root : document.head).append(this.style);
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    this.editor = monaco.editor.createDiffEditor(host, {
      readOnly: true,
      originalEditable: false,
      automaticLayout: true,
      renderSideBySide: true,
      glyphMargin: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      theme: dark ? "vs-dark" : "vs",
      fontSize: 13,
    });
    const listen = (ed: monaco.editor.ICodeEditor, side: "old" | "new") =>
      ed.onMouseDown((e) => {
        const t = e.target.type;
        const gutter =
          t === monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN ||
          t === monaco.editor.MouseTargetType.GUTTER_LINE_NUMBERS;
        if (gutter && e.target.position) onGutter({ line: e.target.position.lineNumber, side });
      });
    listen(this.editor.getOriginalEditor(), "old");
    listen(this.editor.getModifiedEditor(), "new");
    for (const ed of [this.editor.getOriginalEditor(), this.editor.getModifiedEditor()])
      ed.onDidLayoutChange(() => this.layoutZones());
  }

  /** Shows a file's two sides; the old models are disposed (one file open at a time). */
  show(path: string, original: string, modified: string): void {
    const language = languageOf(path);
    const next = [
      monaco.editor.createModel(original, language),
      monaco.editor.createModel(modified, language),
    ];
    this.clearZones();
    this.editor.setModel({ original: next[0]!, modified: next[1]! });
    for (const m of this.models) m.dispose();
    this.models = next;
    this.decorations = { old: [], new: [] };
  }

  /** Keeps the text (and scroll position) when only content changed: for live updates of the open file. */
  update(original: string, modified: string): void {
    const [o, m] = this.models;
    if (!o || !m) return;
    if (o.getValue() === original && m.getValue() === modified) return;
    // Lines move under new text: zones are placed again by the caller's next setInline().
    this.clearZones();
    if (o.getValue() !== original) o.setValue(original);
    if (m.getValue() !== modified) m.setValue(modified);
  }

  /**
   * Shows each item under its line, adding, moving and removing only what changed. An empty view zone
   * makes the room under the line; the item itself is an overlay widget kept on top of that room, since
   * Monaco's text layer lies over view zones and would take their clicks (VS Code's comment threads do the
   * same). An item whose line is past the end of its side is left out (the caller lists it anyway).
   */
  setInline(items: InlineZone[]): void {
    const want = new Map(items.map((i) => [i.key, i]));
    for (const [key, z] of this.zones) {
      const w = want.get(key);
      if (w && w.side === z.side && w.line === z.line && w.node === z.node) continue;
      this.removeZone(z);
      this.zones.delete(key);
    }
    for (const item of items) {
      if (this.zones.has(item.key)) continue;
      const ed = this.side(item.side);
      if (item.line > (ed.getModel()?.getLineCount() ?? 0)) continue;
      item.node.style.position = "absolute";
      const widget: monaco.editor.IOverlayWidget = {
        getId: () => `hive.inline.${item.key}`,
        getDomNode: () => item.node,
        getPosition: () => null, // placed by the zone's callbacks below
      };
      const zone: monaco.editor.IViewZone = {
        afterLineNumber: item.line,
        heightInPx: this.contentHeight(item.node),
        domNode: document.createElement("div"),
        onDomNodeTop: (top) => {
          item.node.style.top = `${top}px`;
        },
      };
      ed.addOverlayWidget(widget);
      let id = "";
      ed.changeViewZones((a) => {
        id = a.addZone(zone);
      });
      this.zones.set(item.key, { ...item, id, zone, widget });
      this.placeAcross(ed, item.node);
      const content = item.node.firstElementChild;
      if (content) this.sizes.observe(content);
    }
  }

  /** Spans the text area of its side, left of the scrollbar. */
  private placeAcross(ed: monaco.editor.ICodeEditor, node: HTMLElement): void {
    const layout = ed.getLayoutInfo();
    node.style.left = `${layout.contentLeft}px`;
    node.style.width = `${Math.max(120, layout.contentWidth - layout.verticalScrollbarWidth - 8)}px`;
  }

  private contentHeight(node: HTMLElement): number {
    return Math.max(24, Math.ceil((node.firstElementChild as HTMLElement | null)?.offsetHeight ?? 0) + 4);
  }

  private layoutZones(): void {
    for (const z of this.zones.values()) {
      this.placeAcross(this.side(z.side), z.node);
      const h = this.contentHeight(z.node);
      if (h === z.zone.heightInPx) continue;
      z.zone.heightInPx = h;
      this.side(z.side).changeViewZones((a) => a.layoutZone(z.id));
    }
  }

  private removeZone(z: PlacedZone): void {
    const content = z.node.firstElementChild;
    if (content) this.sizes.unobserve(content);
    const ed = this.side(z.side);
    ed.changeViewZones((a) => a.removeZone(z.id));
    ed.removeOverlayWidget(z.widget);
  }

  private clearZones(): void {
    for (const z of this.zones.values()) this.removeZone(z);
    this.zones.clear();
  }

  private side(side: "old" | "new"): monaco.editor.ICodeEditor {
    return side === "old" ? this.editor.getOriginalEditor() : this.editor.getModifiedEditor();
  }

  setSideBySide(on: boolean): void {
    this.editor.updateOptions({ renderSideBySide: on });
  }

  /** Marks commented lines in the gutter (open comments stand out from resolved ones). */
  setComments(comments: ReviewComment[]): void {
    const deco = (side: "old" | "new") =>
      comments
        .filter((c) => c.side === side && !c.outdated)
        .map((c) => ({
          range: new monaco.Range(c.line, 1, c.line, 1),
          options: {
            isWholeLine: true,
            glyphMarginClassName: c.resolved ? "hive-comment-glyph resolved" : "hive-comment-glyph",
            glyphMarginHoverMessage: { value: c.body },
            className: c.resolved ? undefined : "hive-comment-line",
          },
        }));
    this.decorations.old = this.editor
      .getOriginalEditor()
      .deltaDecorations(this.decorations.old, deco("old"));
    this.decorations.new = this.editor
      .getModifiedEditor()
      .deltaDecorations(this.decorations.new, deco("new"));
  }

  /** Moves to the next or previous change in the file. */
  goToHunk(direction: "next" | "previous"): void {
    this.editor.goToDiff(direction);
  }

  reveal(line: number, side: "old" | "new"): void {
    const ed = this.side(side);
    ed.revealLineInCenter(line);
    ed.setPosition({ lineNumber: line, column: 1 });
  }

  dispose(): void {
    this.sizes.disconnect();
    this.clearZones();
    this.style.remove();
    this.editor.dispose();
    for (const m of this.models) m.dispose();
    this.models = [];
  }
}
