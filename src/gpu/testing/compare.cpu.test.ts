import { describe, expect, it } from 'vitest';
import { compareToReference, formatComparison } from './compare';

describe('the shared comparison', () => {
  const want = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const tol = { atol: 1e-6, rtol: 1e-6 };

  it('passes equal values', () => {
    expect(compareToReference('y', Float32Array.from(want), want, tol).ok).toBe(true);
  });

  it('fails on one wrong element and reports where and by how much', () => {
    const got = Float32Array.from(want);
    got[4] = 5.01;
    const result = compareToReference('y', got, want, tol);
    expect(result.ok).toBe(false);
    expect(result.worstIndex).toBe(4);
    expect(formatComparison(result, [2, 3], tol)).toMatch(
      /1 of 6 elements.*largest difference 0\.0100.* at \[1, 1\]/s,
    );
    expect(formatComparison(result, [2, 3], tol)).toMatch(/y\[1, 1\]: gpu 5\.01.*reference 5/);
  });

  it('fails on a NaN left in the output (an element the kernel never wrote)', () => {
    const got = Float32Array.from(want);
    got[0] = Number.NaN;
    const result = compareToReference('y', got, want, { atol: 1, rtol: 1 });
    expect(result.ok).toBe(false);
    expect(result.maxAbsDiff).toBe(Number.POSITIVE_INFINITY);
  });

  it('fails on a length mismatch', () => {
    expect(() => compareToReference('y', new Float32Array(5), want, tol)).toThrow(/5 values, reference 6/);
  });
});
