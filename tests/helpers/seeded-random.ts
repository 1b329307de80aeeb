/** Whole numbers in [0, n), the same sequence for the same seed: random test data that a failure can replay. */
export function seededRandom(seed: number): (n: number) => number {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}
