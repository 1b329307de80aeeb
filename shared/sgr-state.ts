/**
 * The net effect of SGR sequences (`ESC[…m`: colors, bold, underline and the like) on a terminal's
 * character attributes, kept as the few parameters that reproduce it. When the lines of a flood are
 * dropped unparsed (see WaitingOutput), the colors they leave in force must still be written; tools that
 * end each color with its own reset (`ESC[39m`, `ESC[22m`: chalk, picocolors) never reset everything, so
 * without reducing them the sequences to replay would grow with the flood.
 *
 * Each attribute remembers the last parameter that set it, read the way xterm 6 reads it
 * (InputHandler.charAttributes, _extractColor, _processUnderline); attributes no parameter set stay as
 * the terminal had them. Anything this does not follow exactly (sub-parameters other than `4:n`, more
 * than 32 parameters, huge numbers) is refused, and the caller parses instead of skipping.
 */

/** xterm's Params keeps at most this many parameters. */
const MAX_PARAMS = 32;
/** Longer numbers saturate in xterm's parser; they are refused rather than followed. */
const MAX_DIGITS = 9;

/** Attributes that one parameter sets and another unsets, with those parameters. */
const FLAGS = [
  [3, 23],
  [5, 25],
  [7, 27],
  [8, 28],
  [9, 29],
  [53, 55],
] as const;
/** For each parameter in FLAGS: which attribute, and whether it sets it. */
const FLAG_OF = new Map<number, [number, boolean]>(
  FLAGS.flatMap(([on, off], flag) => [
    [on, [flag, true]],
    [off, [flag, false]],
  ]),
);

export class SgrState {
  /** A full reset (`0`) came: attributes no later parameter set are at their defaults. */
  private reset = false;
  /** Parameters that set the colors (foreground, background, underline), as they are to be written. */
  private fg: string | undefined;
  private bg: string | undefined;
  private underlineColor: string | undefined;
  /** Underline style, 0 (none) to 5. */
  private underline: number | undefined;
  /** Bold and faint: `22` clears both, so they are written together. */
  private bold: boolean | undefined;
  private faint: boolean | undefined;
  /** Per FLAGS entry, once a parameter set it. */
  private flags: (boolean | undefined)[] = [];

  /**
   * Follows one SGR sequence, given as what stands between `ESC[` and `m`. Answers false, and changes
   * nothing, when the sequence is not one this follows exactly.
   */
  apply(paramText: string): boolean {
    const tokens = paramText.split(";");
    if (tokens.length > MAX_PARAMS) return false;
    const ps: number[] = [];
    const subs: (number | undefined)[] = [];
    for (const token of tokens) {
      const [main, sub, more] = token.split(":");
      if (more !== undefined || main!.length > MAX_DIGITS || (sub !== undefined && main !== "4"))
        return false;
      if (sub !== undefined && sub.length > MAX_DIGITS) return false;
      ps.push(Number(main)); // an empty parameter is 0, as in xterm
      subs.push(sub === undefined ? undefined : sub === "" ? -1 : Number(sub));
    }
    // A color takes the parameters after it, sub-parameters included, another way (not followed here).
    if (subs.some((sub) => sub !== undefined) && ps.some((p) => p === 38 || p === 48 || p === 58))
      return false;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (p === 38 || p === 48 || p === 58) i += this.color(ps, i);
      else this.set(p, subs[i]);
    }
    return true;
  }

  /** Follows a sequence of one parameter without sub-parameters, as most are (without `apply`'s parsing). */
  applyOne(p: number): void {
    if (p === 38 || p === 48 || p === 58) this.color([p], 0);
    else this.set(p, undefined);
  }

  /** SGR sequences that take a terminal from its attributes before the first `apply` to these ("" for none). */
  toString(): string {
    const ps: string[] = this.reset ? ["0"] : [];
    if (this.bold === false || this.faint === false) ps.push("22");
    if (this.bold) ps.push("1");
    if (this.faint) ps.push("2");
    if (this.underline !== undefined)
      ps.push(this.underline === 0 ? "24" : this.underline === 1 ? "4" : `4:${this.underline}`);
    this.flags.forEach((on, flag) => {
      if (on !== undefined) ps.push(String(FLAGS[flag]![on ? 0 : 1]));
    });
    for (const c of [this.fg, this.bg, this.underlineColor]) if (c !== undefined) ps.push(c);
    return ps.length === 0 ? "" : `\x1b[${ps.join(";")}m`;
  }

  clone(): SgrState {
    const copy = Object.assign(new SgrState(), this);
    copy.flags = [...this.flags];
    return copy;
  }

  /** Any parameter but a color's 38, 48 or 58 (`sub`: its sub-parameter, for `4:n`). */
  private set(p: number, sub: number | undefined): void {
    if ((p >= 30 && p <= 37) || (p >= 90 && p <= 97) || p === 39) this.fg = String(p);
    else if ((p >= 40 && p <= 47) || (p >= 100 && p <= 107) || p === 49) this.bg = String(p);
    else if (p === 0) this.clear();
    else if (p === 1) this.bold = true;
    else if (p === 2) this.faint = true;
    else if (p === 22) this.bold = this.faint = false;
    else if (p === 4) this.underline = underlineStyle(sub ?? 1);
    else if (p === 21) this.underline = 2;
    else if (p === 24) this.underline = 0;
    else if (p === 59) this.underlineColor = "59";
    else {
      const flag = FLAG_OF.get(p);
      if (flag) this.flags[flag[0]] = flag[1];
      // Any other parameter is one xterm ignores.
    }
  }

  private clear(): void {
    this.reset = true;
    this.fg = this.bg = this.underlineColor = this.underline = this.bold = this.faint = undefined;
    this.flags = [];
  }

  /**
   * `38`, `48` or `58` at `ps[at]` and the parameters after it, as xterm's _extractColor reads them
   * (semicolon form only); answers how many parameters it took beyond the first.
   */
  private color(ps: number[], at: number): number {
    // [target, color mode, ignored, value, value, value]
    const accu = [0, 0, -1, 0, 0, 0];
    let space = 0;
    let advance = 0;
    do {
      accu[advance + space] = ps[at + advance]!;
      if ((accu[1] === 5 && advance + space >= 2) || (accu[1] === 2 && advance + space >= 5)) break;
      if (accu[1]) space = 1;
    } while (++advance + at < ps.length && advance + space < accu.length);
    const [target, mode, , c1, c2, c3] = accu as [number, number, number, number, number, number];
    // Other color modes take their parameters and set nothing.
    let param: string | undefined;
    if (mode === 5) param = `${target};5;${c1 & 0xff}`;
    else if (mode === 2) param = `${target};2;${c1 & 0xff};${c2 & 0xff};${c3 & 0xff}`;
    if (param !== undefined) {
      if (target === 38) this.fg = param;
      else if (target === 48) this.bg = param;
      else this.underlineColor = param;
    }
    return advance;
  }
}

/** xterm's reading of `4:n`: an empty or unknown style is a single underline. */
function underlineStyle(n: number): number {
  return n === -1 || n > 5 ? 1 : n;
}
