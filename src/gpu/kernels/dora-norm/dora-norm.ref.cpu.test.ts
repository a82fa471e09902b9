/**
 * The DoRA norm reference checked from outside: a case worked by hand, both weight layouts giving the
 * same norms, B = 0 giving ‖W‖ row by row, and the norm being homogeneous. It has no backward to check
 * by finite differences: the norm is detached from the gradient by design (DoRA §4.3; PEFT dora.py).
 */
import { describe, expect, it } from 'vitest';
import { randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { doraNormRef } from './dora-norm.ref';

describe('DoRA norm reference', () => {
  it('works a case by hand', () => {
    // W = [[3, 0], [0, 0]], A = [[0, 1]], B = [[0], [2]], s = 2:
    // row 0: [3, 0] + 2·0·[0, 1] → 3; row 1: [0, 0] + 2·2·[0, 1] = [0, 4] → 4.
    const w = Float64Array.of(3, 0, 0, 0);
    const norm = doraNormRef(w, Float64Array.of(0, 1), Float64Array.of(0, 2), {
      OUT: 2,
      IN: 2,
      r: 1,
      scale: 2,
      layout: 'out-in',
    });
    expect([...norm]).toEqual([3, 4]);
  });

  it('gives the same norms for W [OUT, IN] and for its transpose stored [IN, OUT]', () => {
    const random = seededRandom(3);
    const [OUT, IN, r] = [5, 7, 3];
    const w = randomFloat64(random, OUT * IN);
    const a = randomFloat64(random, r * IN);
    const b = randomFloat64(random, OUT * r);
    const wT = new Float64Array(OUT * IN);
    for (let o = 0; o < OUT; o++) for (let k = 0; k < IN; k++) wT[k * OUT + o] = w[o * IN + k] as number;
    const outIn = doraNormRef(w, a, b, { OUT, IN, r, scale: 1.5, layout: 'out-in' });
    const inOut = doraNormRef(wT, a, b, { OUT, IN, r, scale: 1.5, layout: 'in-out' });
    for (let o = 0; o < OUT; o++) expect(inOut[o]).toBeCloseTo(outIn[o] as number, 12);
  });

  it('is ‖W‖ per row when B = 0, and homogeneous: norm(cW, A, cB) = c·norm(W, A, B)', () => {
    const random = seededRandom(4);
    const [OUT, IN, r] = [4, 6, 2];
    const shapes = { OUT, IN, r, scale: 0.7, layout: 'out-in' as const };
    const w = randomFloat64(random, OUT * IN);
    const a = randomFloat64(random, r * IN);
    const b = randomFloat64(random, OUT * r);
    const zero = doraNormRef(w, a, new Float64Array(OUT * r), shapes);
    for (let o = 0; o < OUT; o++)
      expect(zero[o]).toBeCloseTo(Math.hypot(...w.slice(o * IN, (o + 1) * IN)), 12);
    const norm = doraNormRef(w, a, b, shapes);
    const scaled = doraNormRef(
      w.map((v) => -3 * v),
      a,
      b.map((v) => -3 * v),
      shapes,
    );
    for (let o = 0; o < OUT; o++) expect(scaled[o]).toBeCloseTo(3 * (norm[o] as number), 12);
  });
});
