/**
 * Seeded random numbers (mulberry32): the same seed gives the same sequence everywhere, in a worker, a
 * page or Node. Data order, splits and fresh initialisations use it; it has no GPU dependency, so the UI
 * may import what is built on it.
 */

export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
