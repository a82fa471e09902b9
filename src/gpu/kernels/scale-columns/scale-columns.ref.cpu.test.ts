import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { scaleColumnsBackwardRef, scaleColumnsRef } from './scale-columns.ref';

describe('scale-columns reference backward against finite differences', () => {
  it.each([
    { rows: 5, cols: 3 },
    { rows: 1, cols: 7 },
    { rows: 4, cols: 1 },
  ])('%j', ({ rows, cols }) => {
    const random = seededRandom(rows * 10 + cols);
    const x = randomFloat64(random, rows * cols);
    const l = randomFloat64(random, cols);
    const dy = randomFloat64(random, rows * cols);
    const { dx, dl } = scaleColumnsBackwardRef(x, l, dy, rows, cols);
    const numericX = numericGradient((v) => dot(dy, scaleColumnsRef(v, l, rows, cols)), x);
    const numericL = numericGradient((v) => dot(dy, scaleColumnsRef(x, v, rows, cols)), l);
    for (let i = 0; i < x.length; i++) expect(dx[i]).toBeCloseTo(numericX[i] as number, 8);
    for (let c = 0; c < cols; c++) expect(dl[c]).toBeCloseTo(numericL[c] as number, 8);
  });
});
