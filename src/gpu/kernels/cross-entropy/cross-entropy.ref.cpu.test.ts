import { describe, expect, it } from 'vitest';
import { numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { crossEntropyScale } from './cross-entropy';
import { crossEntropyBackwardRef, crossEntropyRef, meanCrossEntropyRef } from './cross-entropy.ref';

describe('cross-entropy reference backward against finite differences', () => {
  it('is the gradient of the mean loss, with ignored rows contributing nothing', () => {
    const random = seededRandom(8);
    const vocab = 7;
    const labels = [3, -100, 0, 6, 6];
    const logits = randomFloat64(random, labels.length * vocab).map((x) => 3 * x);
    const scale = crossEntropyScale(labels, vocab);
    expect(scale).toBe(1 / 4);
    const dlogits = crossEntropyBackwardRef(logits, labels, vocab, scale);
    const numeric = numericGradient((x) => meanCrossEntropyRef(x, labels, vocab), logits);
    for (let i = 0; i < numeric.length; i++) expect(dlogits[i]).toBeCloseTo(numeric[i] as number, 6);
    expect(Array.from(dlogits.slice(vocab, 2 * vocab))).toEqual(new Array(vocab).fill(0));
  });

  it('matches a hand computation and stays finite at extreme logits', () => {
    // Two classes with logits (0, ln 3): softmax (1/4, 3/4); label 0 costs ln 4.
    const loss = crossEntropyRef(Float64Array.from([0, Math.log(3)]), [0], 2);
    expect(loss[0]).toBeCloseTo(Math.log(4), 12);
    const extreme = Float64Array.from([1e4, -1e4, 1e4 - 1]);
    expect(crossEntropyRef(extreme, [1], 3)[0]).toBeCloseTo(2e4 + Math.log(1 + Math.exp(-1)), 8);
    expect(crossEntropyBackwardRef(extreme, [1], 3, 1).every(Number.isFinite)).toBe(true);
  });
});

describe('the host-side scale', () => {
  it('is 0, not Infinity, when every label is ignored', () => {
    expect(crossEntropyScale([-100, -100], 5)).toBe(0);
    expect(meanCrossEntropyRef(new Float64Array(10), [-100, -100], 5)).toBe(0);
  });

  it('rejects a label outside the vocabulary, naming the row', () => {
    expect(() => crossEntropyScale([1, 5], 5)).toThrow(/row 1 has label 5, outside \[0, 5\)/);
    expect(() => crossEntropyScale([-1], 5)).toThrow(/row 0 has label -1/);
  });
});
