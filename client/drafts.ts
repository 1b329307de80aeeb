/**
 * What a person typed to a cell's agent and has not sent, kept across cell switches and reloads: a
 * prompt can take minutes to write. One localStorage key per cell; sending clears it.
 */
const KEY_PREFIX = "hive.draft.";

export function loadDraft(cellId: string): string {
  try {
    return localStorage.getItem(KEY_PREFIX + cellId) ?? "";
  } catch {
    return ""; // storage disabled: the draft lives as long as the pane
  }
}

export function saveDraft(cellId: string, text: string): void {
  try {
    if (text) localStorage.setItem(KEY_PREFIX + cellId, text);
    else localStorage.removeItem(KEY_PREFIX + cellId);
  } catch {
    // Full or disabled storage: the text stays in the composer, only not past a reload.
  }
}
