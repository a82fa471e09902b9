/**
 * The float64 DPO losses (preference-loss.ref.ts) checked once: each loss type's rowScales against
 * finite differences of the weighted pair losses, and values worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { preferenceLossRef } from './preference-loss.ref';

describe('DPO loss reference', () => {
  it.each(['sigmoid', 'hinge', 'ipo'] as const)(
    'gives, as rowScales, the gradient of the weighted %s loss over each token cross-entropy',
    (lossType) => {
      const random = seededRandom(31);
      const [B, T] = [3, 4];
      const loss = randomFloat64(random, 2 * B * T).map((x) => 2 + 2 * x);
      const reference = randomFloat64(random, 2 * B).map((x) => -8 + 3 * x);
      const weight = [0.5, 0, 0.25];
      const counts = [4, 2, 3, 1, 4, 2];
      // β small enough that no hinge pair sits at its kink, where the gradient jumps.
      const beta = 0.07;
      const losses = (l: Float64Array) => preferenceLossRef(l, reference, weight, beta, lossType, counts);
      const total = (l: Float64Array) =>
        losses(l).pairLoss.reduce((s, v, p) => s + (weight[p] as number) * v, 0);
      const numeric = numericGradient(total, loss);
      const { rowScales } = losses(loss);
      expect(rowScales.some((v) => v !== 0)).toBe(true);
      for (let i = 0; i < loss.length; i++)
        expect(rowScales[Math.floor(i / T)]).toBeCloseTo(numeric[i] as number, 7);
    },
  );

  it('is log 2 with equal margins and matches −log σ(β·δ) by hand', () => {
    // One pair, one token each: logp_c = −1, logp_r = −3, references −2 and −2: δ = 2.
    const { pairLoss, logp } = preferenceLossRef([1, 3], [-2, -2], [1], 0.5);
    expect(Array.from(logp)).toEqual([-1, -3]);
    expect(pairLoss[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 12);
    expect(preferenceLossRef([2, 2], [0, 0], [1], 0.1).pairLoss[0]).toBeCloseTo(Math.LN2, 12);
    expect(preferenceLossRef([0, 1e4], [0, 0], [1], 1).pairLoss[0]).toBe(0);
    expect(preferenceLossRef([1e4, 0], [0, 0], [1], 1).pairLoss[0]).toBeCloseTo(1e4, 6);
    // Hinge: δ = 2 at β 0.5 reaches the margin 1: no loss. IPO: per-token ratios 1/2 and −1/1, β 0.5 → (1.5 − 1)².
    expect(preferenceLossRef([1, 3], [-2, -2], [1], 0.5, 'hinge').pairLoss[0]).toBe(0);
    expect(preferenceLossRef([1, 3], [-2, -2], [1], 0.4, 'hinge').pairLoss[0]).toBeCloseTo(0.2, 12);
    expect(preferenceLossRef([1, 3], [-2, -2], [1], 0.5, 'ipo', [2, 1]).pairLoss[0]).toBeCloseTo(0.25, 12);
  });
});
