import type { z } from "zod";

/**
 * What a person typed and has not sent yet (a message to a cell's agent, a review comment), kept across
 * cell switches and reloads: it can take minutes to write. One localStorage key each; sending clears it.
 */
const KEY_PREFIX = "hive.draft.";

export function loadDraft(key: string): string {
  try {
    return localStorage.getItem(KEY_PREFIX + key) ?? "";
  } catch {
    return ""; // storage disabled: the draft lives as long as the page
  }
}

export function saveDraft(key: string, text: string): void {
  try {
    if (text) localStorage.setItem(KEY_PREFIX + key, text);
    else localStorage.removeItem(KEY_PREFIX + key);
  } catch {
    // Full or disabled storage: the text stays where it is typed, only not past a reload.
  }
}

/** A draft kept as JSON (where a review comment goes, and its text), checked against `schema`. */
export function loadDraftRecord<T>(key: string, schema: z.ZodType<T>): T | undefined {
  const text = loadDraft(key);
  if (!text) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON: not ours to show
  }
}

export function saveDraftRecord(key: string, value: object | undefined): void {
  saveDraft(key, value ? JSON.stringify(value) : "");
}
