// Seeded random sources for the property tests, so a failing case can be reproduced.

/** Numbers in [0, 1), and a pick from a list. */
export function seeded(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

/** Whole numbers below n. */
export function seededInts(seed: number): (n: number) => number {
  return (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
}
