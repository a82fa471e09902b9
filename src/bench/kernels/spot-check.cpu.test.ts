/** The microbenchmarks' output check has teeth: a wrong sampled element or an unwritten (NaN) one fails. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../gpu/testing/random';
import { spotCheck } from './spot-check';

const want = (i: number) => i * 0.5;
const tol = { atol: 1e-6, rtol: 1e-6 };

describe('spotCheck', () => {
  it('passes a correct output', () => {
    const got = Float32Array.from({ length: 100 }, (_, i) => want(i));
    const result = spotCheck('x', got, 100, seededRandom(1), want, tol);
    expect(result.passed).toBe(true);
    expect(result.sampled).toBe(100);
  });

  it('fails on a wrong last element (always sampled) and on NaN', () => {
    const got = Float32Array.from({ length: 100 }, (_, i) => want(i));
    got[99] = 0;
    expect(spotCheck('x', got, 1, seededRandom(1), want, tol).failure).toBe('x[99]: got 0, want 49.5');
    got[99] = want(99);
    got[3] = Number.NaN;
    expect(spotCheck('x', got, 100, seededRandom(1), want, tol).passed).toBe(false);
  });
});
