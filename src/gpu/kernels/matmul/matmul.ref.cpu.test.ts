import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { type MatmulRefSpec, matmulBackwardRef, matmulRef } from './matmul.ref';

describe('matmul reference backward against finite differences', () => {
  it.each([
    { transA: false, transB: false },
    { transA: true, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: true },
  ])('%j', ({ transA, transB }) => {
    const random = seededRandom(5);
    const spec: MatmulRefSpec = {
      batch: 2,
      M: 3,
      N: 4,
      K: 5,
      transA,
      transB,
      strideA: 15,
      strideB: 0,
      alpha: 0.7,
    };
    const a = randomFloat64(random, 30);
    const b = randomFloat64(random, 20);
    const bias = randomFloat64(random, 4);
    const dc = randomFloat64(random, 24);
    const { da, db, dbias } = matmulBackwardRef(a, b, dc, spec);
    const numeric = (f: (v: Float64Array) => Float64Array, x: Float64Array) =>
      numericGradient((v) => dot(dc, f(v)), x);
    const close = (got: Float64Array, want: Float64Array) => {
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      da,
      numeric((v) => matmulRef(v, b, spec), a),
    );
    close(
      db,
      numeric((v) => matmulRef(a, v, spec), b),
    );
    close(
      dbias,
      numeric((v) => matmulRef(a, b, { ...spec, bias: v }), bias),
    );
  });
});
