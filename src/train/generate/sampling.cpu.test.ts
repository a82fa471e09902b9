import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../gpu/testing/random';
import { argmax, candidateDistribution, sampleToken } from './sampling';

const logits = Float32Array.from([1, 3, 2, 3, -1, 0.5]);

describe('sampling', () => {
  it('greedy takes the largest logit, the lowest id on ties', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 0, topP: 1 }, () => 0.99)).toBe(1);
  });

  it('top-k keeps the k most likely and renormalises', () => {
    const d = candidateDistribution(logits, { temperature: 1, topK: 3, topP: 1 });
    expect(d.map((c) => c.id)).toEqual([1, 3, 2]);
    const e = Math.exp;
    expect(d[2]?.p).toBeCloseTo(e(2) / (e(3) + e(3) + e(2)), 12);
  });

  it('top-p keeps the smallest prefix reaching the mass', () => {
    const d = candidateDistribution(logits, { temperature: 1, topK: 0, topP: 0.5 });
    expect(d.map((c) => c.id)).toEqual([1, 3]);
    expect(d.reduce((a, c) => a + c.p, 0)).toBeCloseTo(1, 12);
  });

  it('temperature sharpens or flattens the distribution', () => {
    const cold = candidateDistribution(logits, { temperature: 0.1, topK: 0, topP: 1 });
    const hot = candidateDistribution(logits, { temperature: 10, topK: 0, topP: 1 });
    expect(cold.find((c) => c.id === 2)?.p).toBeLessThan(1e-3);
    expect(hot.find((c) => c.id === 4)?.p).toBeGreaterThan(0.1);
  });

  it('draws with the frequencies of the distribution, reproducibly for a seed', () => {
    const options = { temperature: 1, topK: 0, topP: 1 };
    const random = seededRandom(5);
    const counts = new Map<number, number>();
    for (let i = 0; i < 20000; i++) {
      const id = sampleToken(logits, options, random);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const { id, p } of candidateDistribution(logits, options))
      expect(Math.abs((counts.get(id) ?? 0) / 20000 - p)).toBeLessThan(0.015);
    const draw = (seed: number) =>
      Array.from(
        { length: 10 },
        (
          (r) => () =>
            sampleToken(logits, options, r)
        )(seededRandom(seed)),
      );
    expect(draw(7)).toEqual(draw(7));
  });
});
