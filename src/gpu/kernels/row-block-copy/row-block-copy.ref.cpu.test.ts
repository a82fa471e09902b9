import { describe, expect, it } from 'vitest';
import { dot, numericGradient, randomFloat64 } from '../../testing/finite-difference';
import { seededRandom } from '../../testing/random';
import { rowBlockCopyBackwardRef, rowBlockCopyRef } from './row-block-copy.ref';

describe('row-block copy reference backward against finite differences', () => {
  it.each([
    { B: 3, T: 5, P: 2, C: 4 },
    { B: 1, T: 3, P: 3, C: 2 },
  ])('%j', (l) => {
    const random = seededRandom(13);
    const x = randomFloat64(random, l.B * l.T * l.C);
    const block = randomFloat64(random, l.P * l.C);
    const dout = randomFloat64(random, l.B * l.T * l.C);
    const { dblock, dx } = rowBlockCopyBackwardRef(dout, l);
    const close = (got: Float64Array, want: Float64Array) => {
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i] as number, 6);
    };
    close(
      dblock,
      numericGradient((v) => dot(dout, rowBlockCopyRef(x, v, l)), block),
    );
    close(
      dx,
      numericGradient((v) => dot(dout, rowBlockCopyRef(v, block, l)), x),
    );
  });
});
