import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { layerNormBackwardRef, layerNormRef } from './layernorm.ref';

describe('LayerNorm reference backward against finite differences', () => {
  it.each([
    { rows: 3, cols: 5, eps: 1e-5 },
    { rows: 2, cols: 2, eps: 0.5 },
    { rows: 1, cols: 7, eps: 1e-6, offset: 100 },
  ])('%j', ({ offset, ...shape }) => {
    const random = seededRandom(shape.rows * 17 + shape.cols);
    const x = randomFloat64(random, shape.rows * shape.cols).map((v) => v + (offset ?? 0));
    const gamma = randomFloat64(random, shape.cols);
    const beta = randomFloat64(random, shape.cols);
    const dy = randomFloat64(random, shape.rows * shape.cols);
    const { dx, dgamma, dbeta } = layerNormBackwardRef(x, gamma, dy, shape);
    const close = (got: Float64Array, want: Float64Array) => {
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      dx,
      numericGradient((v) => dot(dy, layerNormRef(v, gamma, beta, shape).y), x),
    );
    close(
      dgamma,
      numericGradient((v) => dot(dy, layerNormRef(x, v, beta, shape).y), gamma),
    );
    close(
      dbeta,
      numericGradient((v) => dot(dy, layerNormRef(x, gamma, v, shape).y), beta),
    );
  });
});
