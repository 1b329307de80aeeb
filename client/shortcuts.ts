/**
 * The keyboard shortcuts, in one table that both the key handler and the `?` overlay read. Alt
 * chords stay out of the way of the shell (Ctrl) and of the browser (Ctrl/Cmd).
 */
export type ShortcutAction =
  | "new-cell"
  | "next-cell"
  | "prev-cell"
  | "new-terminal"
  | "focus-pane"
  | "help"
  | "escape";

export interface Shortcut {
  action: ShortcutAction;
  keys: string[];
  label: string;
  /** Matches a keydown; `pane` carries the digit for focus-pane. */
  match(e: KeyboardEvent): boolean;
}

const alt = (e: KeyboardEvent) => e.altKey && !e.ctrlKey && !e.metaKey;

export const SHORTCUTS: Shortcut[] = [
  { action: "new-cell", keys: ["Alt", "N"], label: "New cell", match: (e) => alt(e) && e.code === "KeyN" },
  {
    action: "next-cell",
    keys: ["Alt", "↓"],
    label: "Next cell",
    match: (e) => alt(e) && e.key === "ArrowDown",
  },
  {
    action: "prev-cell",
    keys: ["Alt", "↑"],
    label: "Previous cell",
    match: (e) => alt(e) && e.key === "ArrowUp",
  },
  {
    action: "new-terminal",
    keys: ["Alt", "T"],
    label: "New terminal",
    match: (e) => alt(e) && e.code === "KeyT",
  },
  {
    action: "focus-pane",
    keys: ["Alt", "1…9"],
    label: "Focus pane (1: terminal, then the panes to its right)",
    match: (e) => alt(e) && /^Digit[1-9]$/.test(e.code),
  },
  {
    action: "help",
    keys: ["?"],
    label: "Show this list (outside a terminal or text field)",
    match: (e) => e.key === "?" && !e.ctrlKey && !e.metaKey && !e.altKey,
  },
  { action: "escape", keys: ["Esc"], label: "Close this list", match: (e) => e.key === "Escape" },
];

/** Keys a focused terminal handles itself (listed in the overlay; plain Ctrl keys stay the shell's). */
export const TERMINAL_KEYS: { keys: string[]; label: string }[] = [
  { keys: ["Ctrl", "Shift", "C"], label: "Copy the selection" },
  { keys: ["Ctrl", "Shift", "V"], label: "Paste" },
  {
    keys: ["Ctrl", "Shift", "F"],
    label: "Find in the terminal's output (Enter: older match, Shift+Enter: newer, Esc: close)",
  },
];

/** The shortcut a keydown means, if any; `?` only counts when the person is not typing somewhere. */
export function shortcutOf(e: KeyboardEvent, typing: boolean): Shortcut | undefined {
  const s = SHORTCUTS.find((x) => x.match(e));
  if (s?.action === "help" && typing) return undefined;
  return s;
}
