import { z } from "zod";

/** A name shown on one line (a cell's, a terminal's): a line break or other control character in it is refused. */
export function displayName(max: number) {
  return z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max)
    .regex(/^\P{Cc}*$/u, "must be one line, without control characters");
}
