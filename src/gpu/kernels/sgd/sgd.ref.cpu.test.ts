// SGD has no backward to check by finite differences; the reference is checked against values by hand.
import { describe, expect, it } from 'vitest';
import { sgdStepRef } from './sgd.ref';

describe('SGD reference', () => {
  it('steps against the gradient by lr', () => {
    expect([
      ...sgdStepRef(Float64Array.from([1, -2]), Float64Array.from([0.5, -1]), { lr: 0.1, weightDecay: 0 }),
    ]).toEqual([1 - 0.05, -2 + 0.1]);
  });

  it('couples weight decay into the gradient, unscaled by the clip coefficient', () => {
    // d = 0.5·4 + 0.1·2 = 2.2; p = 2 − 0.5·2.2 = 0.9.
    const [p] = sgdStepRef(
      Float64Array.from([2]),
      Float64Array.from([4]),
      { lr: 0.5, weightDecay: 0.1 },
      0.5,
    );
    expect(p).toBeCloseTo(0.9, 15);
  });
});
