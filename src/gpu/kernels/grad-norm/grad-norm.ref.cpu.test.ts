// The reference has no backward to check by finite differences; it is checked against values by hand.
import { describe, expect, it } from 'vitest';
import { clipStateRef, gradNormRef } from './grad-norm.ref';

describe('gradient norm reference', () => {
  const grads = [Float64Array.from([3]), Float64Array.from([0, 4]), new Float64Array(0)];

  it('is the L2 norm over every tensor at once', () => {
    expect(gradNormRef(grads, 0).norm).toBe(5);
    expect(gradNormRef([Float64Array.from([1, 1, 1, 1])], 0).norm).toBe(2);
  });

  it('clips to maxNorm with the 1e-6 of clip_grad_norm_', () => {
    expect(gradNormRef(grads, 1).coefficient).toBeCloseTo(1 / (5 + 1e-6), 15);
    expect(gradNormRef(grads, 2.5).coefficient).toBeCloseTo(0.5 - 1e-7, 12);
  });

  it('does not scale up: the coefficient is at most 1', () => {
    expect(gradNormRef(grads, 10).coefficient).toBe(1);
    // maxNorm a hair above the norm still divides by norm + 1e-6 and clamps to 1.
    expect(gradNormRef(grads, 5 + 2e-6).coefficient).toBe(1);
  });

  it('reads maxNorm 0 as no clipping, even for a zero gradient', () => {
    expect(gradNormRef(grads, 0).coefficient).toBe(1);
    expect(gradNormRef([new Float64Array(3)], 1)).toEqual({ norm: 0, coefficient: 1 });
  });

  it('lays out the clip state as [norm, coefficient, 0, 0]', () => {
    expect([...clipStateRef(grads, 2.5)]).toEqual([5, 2.5 / (5 + 1e-6), 0, 0]);
  });
});
