import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { doraScaleBackwardRef, doraScaleRef } from './dora-scale.ref';

describe('DoRA scale reference backward against finite differences', () => {
  it.each([{ subtractOne: false }, { subtractOne: true }])('%j', ({ subtractOne }) => {
    const random = seededRandom(11);
    const [rows, cols] = [4, 3];
    const v = randomFloat64(random, rows * cols);
    const magnitude = randomFloat64(random, cols).map((m) => 1 + m / 2);
    // The norm is a constant here: DoRA detaches it, so it has no gradient to check.
    const norm = randomFloat64(random, cols).map((n) => 1.2 + n / 2);
    const bias = randomFloat64(random, cols);
    const y0 = randomFloat64(random, rows * cols);
    const dy = randomFloat64(random, rows * cols);
    const base = { v, magnitude, norm, bias, y0 };
    const { dv, dm } = doraScaleBackwardRef(base, dy, subtractOne);
    const close = (got: Float64Array, want: Float64Array) => {
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      dv,
      numericGradient((x) => dot(dy, doraScaleRef({ ...base, v: x }, subtractOne)), v),
    );
    close(
      dm,
      numericGradient((x) => dot(dy, doraScaleRef({ ...base, magnitude: x }, subtractOne)), magnitude),
    );
  });
});
