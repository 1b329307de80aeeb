import type xtermHeadless from "@xterm/headless";

type Term = InstanceType<typeof xtermHeadless.Terminal>;

/** Every row as text plus, per cell, the attributes a person can see. */
export function rows(t: Term): string[] {
  const b = t.buffer.active;
  const cell = b.getNullCell();
  const out: string[] = [];
  for (let r = 0; r < b.length; r++) {
    const line = b.getLine(r)!;
    let row = line.isWrapped ? "↪" : "";
    for (let x = 0; x < t.cols; x++) {
      line.getCell(x, cell);
      const blank = cell.getChars() === "" || cell.getChars() === " ";
      row += blank && cell.getBgColorMode() === 0 ? " " : cell.getChars();
      if (!blank || cell.getBgColorMode() !== 0) {
        row += `[${cell.getFgColorMode()}:${cell.getFgColor()}/${cell.getBgColorMode()}:${cell.getBgColor()}${cell.isBold() ? "b" : ""}${cell.isItalic() ? "i" : ""}${cell.isUnderline() ? "u" : ""}]`;
      }
    }
    out.push(row.trimEnd());
  }
  while (out.length > 0 && out.at(-1) === "") out.pop();
  return out;
}
