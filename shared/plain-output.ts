import stripAnsi from "strip-ansi";

/**
 * Program output as a terminal would have left it, for places that show it as plain text (a failed
 * step's or service's output tail, the checklist's live output): colours and other control sequences
 * dropped, and a line redrawn with carriage returns (a progress bar) reduced to what it said last.
 */
export function plainText(text: string): string {
  return stripAnsi(text)
    .split("\n")
    .map((line) => {
      const shown = line.replace(/\r+$/, "");
      return shown.slice(shown.lastIndexOf("\r") + 1);
    })
    .join("\n");
}

/** The last `lines` lines of output as plain text, for an error's detail. */
export function plainTail(text: string, lines: number): string {
  return plainText(text).trimEnd().split("\n").slice(-lines).join("\n");
}
