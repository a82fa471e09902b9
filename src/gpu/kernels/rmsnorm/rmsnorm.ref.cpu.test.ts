import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { rmsNormBackwardRef, rmsNormRef } from './rmsnorm.ref';

describe('RMSNorm reference backward against finite differences', () => {
  it.each([
    { rows: 3, cols: 5, eps: 1e-5 },
    { rows: 2, cols: 1, eps: 0.5 },
    { rows: 1, cols: 7, eps: 1e-6 },
  ])('%j', (shape) => {
    const random = seededRandom(shape.rows * 13 + shape.cols);
    const x = randomFloat64(random, shape.rows * shape.cols);
    const weight = randomFloat64(random, shape.cols);
    const dy = randomFloat64(random, shape.rows * shape.cols);
    const { dx, dweight } = rmsNormBackwardRef(x, weight, dy, shape);
    const close = (got: Float64Array, want: Float64Array) => {
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      dx,
      numericGradient((v) => dot(dy, rmsNormRef(v, weight, shape).y), x),
    );
    close(
      dweight,
      numericGradient((v) => dot(dy, rmsNormRef(x, v, shape).y), weight),
    );
  });
});
