import type { z } from "zod";

/**
 * What a person typed and has not sent yet (a message to a cell's agent, a review comment), kept across
 * cell switches and reloads: it can take minutes to write. One localStorage key per cell and kind;
 * sending clears it.
 */
const KEY_PREFIX = "hive.draft.";
const KINDS = ["chat", "comment"] as const;
type DraftKind = (typeof KINDS)[number];

const keyOf = (cellId: string, kind: DraftKind) => `${KEY_PREFIX}${kind}:${cellId}`;

export function loadDraft(cellId: string, kind: DraftKind): string {
  try {
    return localStorage.getItem(keyOf(cellId, kind)) ?? "";
  } catch {
    return ""; // storage disabled: the draft lives as long as the page
  }
}

export function saveDraft(cellId: string, kind: DraftKind, text: string): void {
  try {
    if (text) localStorage.setItem(keyOf(cellId, kind), text);
    else localStorage.removeItem(keyOf(cellId, kind));
  } catch {
    // Full or disabled storage: the text stays where it is typed, only not past a reload.
  }
}

/** A draft kept as JSON (where a review comment goes, and its text), checked against `schema`. */
export function loadDraftRecord<T>(cellId: string, kind: DraftKind, schema: z.ZodType<T>): T | undefined {
  const text = loadDraft(cellId, kind);
  if (!text) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON: not ours to show
  }
}

export function saveDraftRecord(cellId: string, kind: DraftKind, value: object | undefined): void {
  saveDraft(cellId, kind, value ? JSON.stringify(value) : "");
}

/** A deleted cell's drafts go with it. */
export function forgetDrafts(cellId: string): void {
  for (const kind of KINDS) saveDraft(cellId, kind, "");
}
