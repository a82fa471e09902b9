import { describe, expect, it } from 'vitest';
import { attentionFlops, kernelShapes } from './kernel-shapes';

/** Visible (query, key) pairs counted one by one: key ≤ query, and within the window. */
function countPairs(T: number, window = Number.POSITIVE_INFINITY): number {
  let pairs = 0;
  for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) if (t - s < window) pairs++;
  return pairs;
}

describe('attention benchmark FLOPs', () => {
  it('count 4·D per visible pair, causal and within a window', () => {
    const shape = { name: 'x', B: 2, T: 37, NH: 3, KVH: 1, D: 8 };
    for (const window of [undefined, 1, 5, 37, 100]) {
      expect(attentionFlops({ ...shape, window }), String(window)).toBe(
        4 * 8 * 2 * 3 * countPairs(37, window),
      );
    }
    for (const s of [...kernelShapes(true).attention, ...kernelShapes(false).attention])
      expect(attentionFlops(s), s.name).toBe(4 * s.D * s.B * s.NH * countPairs(s.T, s.window));
  });
});
