import { css, html, type LitElement, type ReactiveController, render } from "lit";
import { z } from "zod";
import type { ReviewComment } from "../../shared/diffs.ts";
import type { DiffView } from "../stores/diff.ts";
import type { GutterClick, InlineZone, MonacoDiff } from "./monaco-diff.ts";
import "./review-comment.ts";

/** A comment being written, under the line whose number was clicked (kept in localStorage, so checked). */
export const CommentDraftSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  side: z.enum(["old", "new"]),
  body: z.string(),
});
/** `clicked`: opened by a click in this page just now, not brought back from storage. */
export type CommentDraft = z.infer<typeof CommentDraftSchema> & { clicked?: boolean };

/** Monaco's stylesheets, as its chunk first put them in the document head. */
let monacoSheets: HTMLLinkElement[] | undefined;

/** For the pane that hosts the controller: Monaco's DOM and the comment zones live in its shadow root. */
export const diffEditorStyles = css`
  .editor {
    flex: 1;
    min-height: 120px;
    position: relative;
  }
  .editor > div {
    position: absolute;
    inset: 0;
  }
  /* A comment under its line inside the diff: Monaco sets the zone's size, the content sets Monaco's. */
  .zone {
    white-space: normal;
  }
`;

/**
 * The review pane's Monaco diff editor, kept apart from the pane's layout and commands: it loads Monaco
 * (its own chunk) the first time a file with content is shown, keeps the editor in step with the selected
 * file, and places comments and the draft form under their lines. A controller rather than a component,
 * so Monaco's DOM and stylesheets stay in the pane's shadow root.
 */
export class DiffEditorController implements ReactiveController {
  private editor: MonacoDiff | undefined;
  private loadState: "idle" | "loading" | "ready" | "failed" = "idle";
  private split = true;
  /** Made once and kept, so Monaco's DOM survives re-renders of the pane around it. */
  private readonly element = document.createElement("div");
  private shown: { path: string; forced: boolean } | undefined;
  /** The DOM each comment (and the draft) is shown in under its line, kept while it stays shown. */
  private readonly zoneNodes = new Map<string, HTMLElement>();

  constructor(
    private readonly host: LitElement,
    private readonly onGutter: (click: GutterClick) => void,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.zoneNodes.clear();
    this.editor?.dispose();
    this.editor = undefined;
    this.setLoadState("idle");
    this.shown = undefined;
  }

  get failed(): boolean {
    return this.loadState === "failed";
  }

  get sideBySide(): boolean {
    return this.split;
  }

  toggleSideBySide(): void {
    this.split = !this.split;
    this.editor?.setSideBySide(this.split);
    this.host.requestUpdate();
  }

  goToHunk(direction: "next" | "previous"): void {
    this.editor?.goToHunk(direction);
  }

  reveal(line: number, side: "old" | "new"): void {
    this.editor?.reveal(line, side);
  }

  /** A new cell's diff: its first file is shown afresh, not updated in place of the last cell's. */
  forgetShown(): void {
    this.shown = undefined;
  }

  /** The editor's place in the pane, hidden while a notice stands in for it. */
  view(visible: boolean) {
    return html`<div class="editor" ?hidden=${!visible}>${this.element}</div>`;
  }

  /** Loads Monaco the first time a file with content is shown, then keeps the editor in step. */
  async sync(v: DiffView, draft: CommentDraft | undefined): Promise<void> {
    const file = v.file;
    if (!file || file.path !== v.selected) return;
    if (file.old.content === null && file.new.content === null) return;
    if (!this.editor) {
      if (this.loadState === "loading") return;
      this.setLoadState("loading");
      try {
        const before = monacoSheets
          ? undefined
          : new Set(document.head.querySelectorAll("link[rel=stylesheet]"));
        const { MonacoDiff } = await import("./monaco-diff.ts");
        monacoSheets ??= [...document.head.querySelectorAll<HTMLLinkElement>("link[rel=stylesheet]")].filter(
          (l) => !before?.has(l),
        );
        // Monaco's stylesheets arrive in the document head with its chunk, but the editor lives in the
        // pane's shadow root: the same sheets are linked there too (fonts stay declared by the head's copies).
        // Every pane needs them, not only the first to load the chunk (another cell's pane is another root).
        const linked = new Set([...this.host.renderRoot.querySelectorAll("link")].map((l) => l.href));
        for (const link of monacoSheets) {
          if (!linked.has(link.href)) this.host.renderRoot.append(link.cloneNode());
        }
        // A host that left and came back meanwhile started a second load: the first to finish makes the
        // editor (two in one element break Monaco), the other uses it.
        if (!this.editor) {
          this.editor = new MonacoDiff(this.element, this.onGutter);
          this.editor.setSideBySide(this.split);
        }
        this.setLoadState("ready");
      } catch (e) {
        console.error("hive: the diff editor failed to load", e);
        this.setLoadState("failed");
        return;
      }
    }
    const old = file.old.content ?? "";
    const now = file.new.content ?? "";
    if (this.shown?.path === file.path && this.shown.forced === v.forced) this.editor.update(old, now);
    else this.editor.show(file.path, old, now);
    this.shown = { path: file.path, forced: v.forced };
    const mine = v.comments.filter((c) => c.path === file.path);
    this.editor.setComments(mine);
    this.editor.setInline(this.inlineZones(file.path, mine, draft));
  }

  private setLoadState(state: DiffEditorController["loadState"]): void {
    this.loadState = state;
    this.host.requestUpdate();
  }

  /**
   * Comments under their lines inside the diff (an outdated one has no line: it is only listed), and the
   * form for a new one. Each keeps its DOM while shown, so typing in it survives updates.
   */
  private inlineZones(
    path: string,
    comments: ReviewComment[],
    draft: CommentDraft | undefined,
  ): InlineZone[] {
    const zones: InlineZone[] = [];
    const place = (key: string, side: "old" | "new", line: number, content: unknown) => {
      let node = this.zoneNodes.get(key);
      if (!node) {
        node = document.createElement("div");
        // Keys typed in a comment are the comment's, not Monaco's (which would act on the editor).
        node.addEventListener("keydown", (e) => e.stopPropagation());
        this.zoneNodes.set(key, node);
      }
      render(html`<div class="zone">${content}</div>`, node);
      zones.push({ key, side, line, node });
    };
    for (const c of comments) {
      if (!c.outdated)
        place(
          `c${c.id}`,
          c.side,
          c.line,
          html`<hive-review-comment inline .comment=${c}></hive-review-comment>`,
        );
    }
    if (draft && draft.path === path) {
      place(
        `draft:${draft.side}:${draft.line}`,
        draft.side,
        draft.line,
        html`<hive-comment-form
          .line=${draft.line}
          .side=${draft.side}
          .body=${draft.body}
          .takeFocus=${!!draft.clicked}
        ></hive-comment-form>`,
      );
    }
    const keys = new Set(zones.map((z) => z.key));
    for (const key of this.zoneNodes.keys()) if (!keys.has(key)) this.zoneNodes.delete(key);
    return zones;
  }
}
