import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { geluBackwardRef, geluRef } from './gelu.ref';

describe('GELU reference backward against finite differences', () => {
  it('dx over [-6, 6]', () => {
    const random = seededRandom(13);
    const x = randomFloat64(random, 41).map((v) => 6 * v);
    const dy = randomFloat64(random, 41);
    const dx = geluBackwardRef(x, dy);
    const numeric = numericGradient((v) => dot(dy, geluRef(v)), x);
    for (let i = 0; i < x.length; i++) expect(dx[i]).toBeCloseTo(numeric[i] as number, 7);
  });

  it('matches known values of gelu_new', () => {
    const y = geluRef(Float64Array.from([0, 1, -1, 3, -3, -30, 30]));
    // From Python's math module: 0.5*x*(1 + math.tanh(math.sqrt(2/math.pi)*(x + 0.044715*x**3))).
    const want = [0, 0.8411919906082768, -0.15880800939172324, 2.996362607918227, -0.0036373920817729943];
    for (const [i, w] of want.entries()) expect(y[i]).toBeCloseTo(w, 15);
    expect(y[5]).toBeCloseTo(0, 15);
    expect(y[6]).toBe(30);
  });
});
