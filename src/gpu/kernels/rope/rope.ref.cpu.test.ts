import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { type RopeRefSpec, ropeBackwardRef, ropeRef } from './rope.ref';
import { ropeInvFreq } from './rope-frequencies';

const llama3 = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };

describe('RoPE reference backward against finite differences', () => {
  it.each([
    { B: 2, T: 3, NH: 2, D: 6, theta: 10000 },
    { B: 1, T: 4, NH: 3, D: 8, theta: 500000, offsets: [9000], scaling: llama3 },
    { B: 2, T: 2, NH: 1, D: 2, theta: 10000, offsets: [5, 12000] },
  ])('%j', ({ theta, scaling, ...shape }) => {
    const random = seededRandom(shape.B * 100 + shape.D);
    const spec: RopeRefSpec = { ...shape, invFreq: ropeInvFreq({ headDim: shape.D, theta, scaling }) };
    const n = shape.B * shape.T * shape.NH * shape.D;
    const x = randomFloat64(random, n);
    const dy = randomFloat64(random, n);
    const numeric = numericGradient((v) => dot(dy, ropeRef(v, spec)), x);
    const dx = ropeBackwardRef(dy, spec);
    for (let i = 0; i < n; i++) expect(dx[i]).toBeCloseTo(numeric[i] as number, 7);
  });

  it('is a rotation: the backward undoes the forward and norms are kept', () => {
    const spec: RopeRefSpec = { B: 1, T: 5, NH: 2, D: 4, invFreq: ropeInvFreq({ headDim: 4, theta: 10000 }) };
    const x = randomFloat64(seededRandom(3), 40);
    const y = ropeRef(x, spec);
    const back = ropeBackwardRef(y, spec);
    for (let i = 0; i < x.length; i++) expect(back[i]).toBeCloseTo(x[i] as number, 12);
    expect(dot(y, y)).toBeCloseTo(dot(x, x), 12);
  });

  it('rotates the pair (x[i], x[i + D/2]) by pos·inv_freq[i], leaving position 0 unchanged', () => {
    // One head of D = 4 at positions 0 and 1: inv_freq = [1, 1/100] with theta 10000.
    const spec: RopeRefSpec = { B: 1, T: 2, NH: 1, D: 4, invFreq: ropeInvFreq({ headDim: 4, theta: 10000 }) };
    const y = ropeRef(Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0]), spec);
    expect(Array.from(y.slice(0, 4))).toEqual([1, 0, 0, 0]);
    expect(y[4]).toBeCloseTo(Math.cos(1), 14);
    expect(y[6]).toBeCloseTo(Math.sin(1), 14);
    expect(y[5]).toBe(0);
  });
});
