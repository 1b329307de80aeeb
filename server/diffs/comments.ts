import type { ReviewComment } from "../../shared/diffs.ts";

const norm = (line: string | undefined) => line?.replace(/\r$/, "").trimEnd();

/**
 * Where a comment's line is now: the same line if its text is unchanged, else the nearest line with
 * the anchored text (so a comment follows its line when lines are inserted above it), else outdated.
 */
export function relocate(comment: ReviewComment, lines: string[]): { line: number; outdated: boolean } {
  const want = norm(comment.anchorText);
  const at = comment.line - 1;
  if (norm(lines[at]) === want) return { line: comment.line, outdated: false };
  for (let d = 1; d < lines.length; d++) {
    if (norm(lines[at - d]) === want) return { line: at - d + 1, outdated: false };
    if (norm(lines[at + d]) === want) return { line: at + d + 1, outdated: false };
  }
  return { line: comment.line, outdated: true };
}

const CONTEXT_LINES = 2;

function quote(comment: ReviewComment, lines: string[] | undefined): string {
  if (!lines || comment.outdated) return comment.anchorText;
  const from = Math.max(0, comment.line - 1 - CONTEXT_LINES);
  const to = Math.min(lines.length, comment.line + CONTEXT_LINES);
  return lines
    .slice(from, to)
    .map((l, i) => `${from + i + 1 === comment.line ? ">" : " "} ${norm(l)}`)
    .join("\n");
}

/**
 * One prompt for the agent from open review comments: each names the file and line, quotes the code
 * around it (the commented line marked with '>') and gives the reviewer's words.
 */
export function reviewPrompt(comments: ReviewComment[], fileLines: Map<string, string[]>): string {
  const parts = comments.map((c, i) => {
    const where = `${c.path}, line ${c.line}${c.side === "old" ? " (old version, before your change)" : ""}`;
    const fence = "```";
    return [
      `${i + 1}. ${where}:`,
      fence,
      quote(c, c.side === "new" ? fileLines.get(c.path) : undefined),
      fence,
      `Comment: ${c.body}`,
    ].join("\n");
  });
  const noun = comments.length === 1 ? "comment" : "comments";
  return [
    `A reviewer left ${comments.length} ${noun} on your changes. Please address each one:`,
    ...parts,
  ].join("\n\n");
}
