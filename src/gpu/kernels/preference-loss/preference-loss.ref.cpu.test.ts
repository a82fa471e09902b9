import { describe, expect, it } from 'vitest';
import { numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { preferenceLossRef } from './preference-loss.ref';

describe('DPO loss reference', () => {
  it('gives, as rowScales, the gradient of the weighted loss over each token cross-entropy', () => {
    const random = seededRandom(31);
    const [B, T] = [3, 4];
    const loss = randomFloat64(random, 2 * B * T).map((x) => 2 + 2 * x);
    const reference = randomFloat64(random, 2 * B).map((x) => -8 + 3 * x);
    const weight = [0.5, 0, 0.25];
    const beta = 0.7;
    const total = (l: Float64Array) =>
      preferenceLossRef(l, reference, weight, beta).pairLoss.reduce(
        (s, v, p) => s + (weight[p] as number) * v,
        0,
      );
    const numeric = numericGradient(total, loss);
    const { rowScales } = preferenceLossRef(loss, reference, weight, beta);
    for (let i = 0; i < loss.length; i++)
      expect(rowScales[Math.floor(i / T)]).toBeCloseTo(numeric[i] as number, 7);
  });

  it('is log 2 with equal margins and matches −log σ(β·δ) by hand', () => {
    // One pair, one token each: logp_c = −1, logp_r = −3, references −2 and −2: δ = 2.
    const { pairLoss, logp } = preferenceLossRef([1, 3], [-2, -2], [1], 0.5);
    expect(Array.from(logp)).toEqual([-1, -3]);
    expect(pairLoss[0]).toBeCloseTo(Math.log(1 + Math.exp(-1)), 12);
    expect(preferenceLossRef([2, 2], [0, 0], [1], 0.1).pairLoss[0]).toBeCloseTo(Math.LN2, 12);
    expect(preferenceLossRef([0, 1e4], [0, 0], [1], 1).pairLoss[0]).toBe(0);
    expect(preferenceLossRef([1e4, 0], [0, 0], [1], 1).pairLoss[0]).toBeCloseTo(1e4, 6);
  });
});
