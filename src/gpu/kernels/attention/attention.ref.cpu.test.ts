import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import {
  type AttentionRefSpec,
  attentionBackwardRef,
  attentionDropoutFactor,
  attentionForwardRef,
  attentionScale,
} from './attention.ref';

const cases: { name: string; spec: AttentionRefSpec }[] = [
  { name: 'causal, GQA 2', spec: { B: 2, T: 4, S: 4, NH: 4, KVH: 2, D: 3, causal: true } },
  {
    name: 'bidirectional, GQA 3, scale 0.9',
    spec: { B: 1, T: 3, S: 5, NH: 3, KVH: 1, D: 2, causal: false, scale: 0.9 },
  },
  { name: 'causal, S > T (a KV cache)', spec: { B: 1, T: 2, S: 5, NH: 2, KVH: 2, D: 3, causal: true } },
  {
    // Batch 1 hides its first two keys: with the causal mask its first two queries see nothing.
    name: 'causal with a left-padded batch',
    spec: {
      B: 2,
      T: 4,
      S: 4,
      NH: 2,
      KVH: 1,
      D: 2,
      causal: true,
      keyMask: Float64Array.from([1, 1, 1, 1, 0, 0, 1, 1]),
    },
  },
  {
    // A fixed mask makes dropout a linear map on P: the gradients still follow finite differences.
    name: 'bidirectional, padded, attention dropout p = 0.4',
    spec: {
      B: 2,
      T: 3,
      S: 3,
      NH: 2,
      KVH: 1,
      D: 2,
      causal: false,
      keyMask: Float64Array.from([1, 1, 1, 1, 1, 0]),
      dropout: { p: 0.4, key: { seed: 5, step: 2, stream: 1 } },
    },
  },
];

describe('attention reference backward against finite differences', () => {
  it.each(cases)('$name', ({ spec }) => {
    const random = seededRandom(17);
    const qSize = spec.B * spec.T * spec.NH * spec.D;
    const kvSize = spec.B * spec.S * spec.KVH * spec.D;
    const q = randomFloat64(random, qSize);
    const k = randomFloat64(random, kvSize);
    const v = randomFloat64(random, kvSize);
    const dOut = randomFloat64(random, qSize);
    const { dq, dk, dv } = attentionBackwardRef(q, k, v, dOut, spec);
    const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) =>
      dot(dOut, attentionForwardRef(qq, kk, vv, spec).out);
    const close = (got: Float64Array, want: Float64Array) => {
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      dq,
      numericGradient((x) => loss(x, k, v), q),
    );
    close(
      dk,
      numericGradient((x) => loss(q, x, v), k),
    );
    close(
      dv,
      numericGradient((x) => loss(q, k, x), v),
    );
  });
});

describe('attention reference forward', () => {
  it('gives the mean of the visible V rows and lse = log(count) for equal scores, zeros for a hidden query', () => {
    // Q = 0 makes every score 0: out is the mean of the visible V rows and lse = log(count).
    const spec: AttentionRefSpec = {
      B: 1,
      T: 3,
      S: 3,
      NH: 1,
      KVH: 1,
      D: 2,
      causal: true,
      keyMask: Float64Array.from([0, 1, 1]),
    };
    const v = Float64Array.from([10, 20, 1, 2, 3, 4]);
    const { out, lse } = attentionForwardRef(new Float64Array(6), new Float64Array(6), v, spec);
    expect(Array.from(out)).toEqual([0, 0, 1, 2, 2, 3]);
    expect(lse[0]).toBe(0);
    expect(lse[1]).toBeCloseTo(0, 12);
    expect(lse[2]).toBeCloseTo(Math.log(2), 12);
  });

  it('drops about p of the probabilities, scales the rest by 1/(1 − p), and is 1 without dropout', () => {
    const spec: AttentionRefSpec = { B: 2, T: 30, S: 30, NH: 3, KVH: 1, D: 1, causal: false };
    const drop = { ...spec, dropout: { p: 0.25, key: { seed: 9, step: 4, stream: 2 } } };
    const factors: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let h = 0; h < 3; h++)
        for (let t = 0; t < 30; t++)
          for (let s = 0; s < 30; s++) {
            expect(attentionDropoutFactor(spec, b, h, t, s)).toBe(1);
            factors.push(attentionDropoutFactor(drop, b, h, t, s));
          }
    const dropped = factors.filter((z) => z === 0).length / factors.length;
    expect(dropped).toBeGreaterThan(0.22);
    expect(dropped).toBeLessThan(0.28);
    expect(factors.every((z) => z === 0 || z === 1 / 0.75)).toBe(true);
    // Another step draws another mask.
    const next = { ...spec, dropout: { p: 0.25, key: { seed: 9, step: 5, stream: 2 } } };
    let differ = 0;
    for (let t = 0; t < 30; t++)
      for (let s = 0; s < 30; s++)
        if (attentionDropoutFactor(next, 0, 0, t, s) !== attentionDropoutFactor(drop, 0, 0, t, s)) differ++;
    expect(differ).toBeGreaterThan(100);
  });

  it('uses 1/√D unless a scale is given', () => {
    expect(attentionScale({ D: 16 })).toBe(0.25);
    expect(attentionScale({ D: 16, scale: 0.5 })).toBe(0.5);
  });
});
