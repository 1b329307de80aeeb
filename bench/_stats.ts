/** Summaries of a bench's samples. */

/** The sample at rank floor(n·p) once sorted (p from 0 to 1); NaN when there are none. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export const median = (xs: number[]): number => percentile(xs, 0.5);
