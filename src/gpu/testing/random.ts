/** Seeded random inputs for tests and benchmarks, built on the one seeded generator (train/seeded-random). */

import { type Random, seededRandom } from '../../train/seeded-random';

export { type Random, seededRandom };

/** Uniform values in [-scale, scale). */
export function randomArray(random: Random, count: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
