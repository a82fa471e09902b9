import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { swigluBackwardRef, swigluRef } from './swiglu.ref';

describe('SwiGLU reference backward against finite differences', () => {
  it('dgate and dup', () => {
    const random = seededRandom(11);
    const n = 37;
    // Gates over [-6, 6] reach both tails of the sigmoid.
    const gate = randomFloat64(random, n).map((v) => 6 * v);
    const up = randomFloat64(random, n);
    const dh = randomFloat64(random, n);
    const { dgate, dup } = swigluBackwardRef(gate, up, dh);
    const numericGate = numericGradient((v) => dot(dh, swigluRef(v, up)), gate);
    const numericUp = numericGradient((v) => dot(dh, swigluRef(gate, v)), up);
    for (let i = 0; i < n; i++) {
      expect(dgate[i]).toBeCloseTo(numericGate[i] as number, 7);
      expect(dup[i]).toBeCloseTo(numericUp[i] as number, 7);
    }
  });

  it('is silu(g)·up at known points', () => {
    const h = swigluRef(Float64Array.from([0, 1, -1]), Float64Array.from([5, 2, 3]));
    expect(h[0]).toBe(0);
    expect(h[1]).toBeCloseTo(2 / (1 + Math.exp(-1)), 15);
    expect(h[2]).toBeCloseTo(-3 / (1 + Math.exp(1)), 15);
  });
});
