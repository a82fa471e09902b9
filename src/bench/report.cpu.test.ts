/**
 * The benchmark's plain arithmetic and formatting: medians, the logits comparison, kernel totals and
 * the table.
 */
import { describe, expect, it } from 'vitest';
import { kernelName, kernelTotals } from './dispatch-probe';
import { caseTable, formatTable } from './report';
import { type CaseResult, largestDifference, median } from './run-case';

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('largestDifference', () => {
  it('finds the largest gap and the largest reference magnitude', () => {
    const { maxDiff, maxAbs } = largestDifference(Float32Array.of(1, -2, 3), Float32Array.of(1.5, -2, -4));
    expect(maxDiff).toBe(7);
    expect(maxAbs).toBe(4);
  });

  it('makes a NaN on either side an infinite difference, so the check fails', () => {
    expect(largestDifference(Float32Array.of(Number.NaN), Float32Array.of(0)).maxDiff).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('refuses arrays of different lengths', () => {
    expect(() => largestDifference(new Float32Array(2), new Float32Array(3))).toThrow(/Compared 2/);
  });
});

describe('kernel totals', () => {
  it('names a kernel by its pipeline label up to the constants', () => {
    expect(kernelName('matmul(TILE=16,TRANSPOSE_B=1)')).toBe('matmul');
    expect(kernelName('MatMulPackedProgram')).toBe('MatMulPackedProgram');
    expect(kernelName('')).toBe('(unlabelled)');
  });

  it('sums calls and time per kernel, slowest first', () => {
    expect(
      kernelTotals([
        { name: 'a', ms: 1 },
        { name: 'b', ms: 5 },
        { name: 'a', ms: 2 },
      ]),
    ).toEqual([
      { name: 'b', calls: 1, ms: 5 },
      { name: 'a', calls: 2, ms: 3 },
    ]);
  });
});

describe('table', () => {
  it('pads columns: the first two to the left, the rest to the right', () => {
    expect(
      formatTable([
        ['a', 'bb', 'c'],
        ['aaa', 'b', 'cc'],
      ]),
    ).toBe('a    bb   c\naaa  b   cc');
  });

  it('shows a failed check in place of timings', () => {
    const failed: CaseResult = {
      shape: 'tiny',
      method: 'full',
      B: 1,
      T: 8,
      tokensPerStep: 8,
      warmup: 1,
      steps: 1,
      trainableParams: 10,
      totalParams: 10,
      status: 'failed-check',
      check: {
        maxLogitDiff: 1,
        maxAbsLogit: 1,
        firstLossDiff: Number.NaN,
        maxLossDiff: 0,
        passed: false,
        failure: 'logits differ',
      },
    };
    expect(caseTable([failed])).toContain('CHECK FAILED: logits differ');
  });
});
