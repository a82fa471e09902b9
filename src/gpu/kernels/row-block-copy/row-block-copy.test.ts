import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { rowBlockCopy, rowBlockCopyBackward } from './row-block-copy';
import { rowBlockCopyBackwardRef, rowBlockCopyRef } from './row-block-copy.ref';

describe('row-block copy (prompt tuning)', () => {
  it.each([
    { B: 3, T: 15, P: 4, C: 65 },
    { B: 1, T: 1, P: 1, C: 1 },
    { B: 5, T: 9, P: 9, C: 33 },
    { B: 2, T: 70, P: 20, C: 16 },
  ])('%j', async (l) => {
    const random = seededRandom(l.B * 100 + l.T + l.P + l.C);
    const x = randomArray(random, l.B * l.T * l.C);
    await checkKernel(await testRuntime(), {
      name: `row-block copy ${JSON.stringify(l)}`,
      inputs: {
        block: { shape: [l.P, l.C], data: randomArray(random, l.P * l.C) },
        dout: { shape: [l.B * l.T, l.C], data: randomArray(random, l.B * l.T * l.C) },
      },
      outputs: {
        // The rows past the block must come through untouched: the output starts as x.
        out: { shape: [l.B * l.T, l.C], tol: { atol: 0, rtol: 0 }, initial: x },
        // A sum of B terms.
        dblock: { shape: [l.P, l.C], tol: { atol: 1e-6 * l.B, rtol: 1e-6 } },
      },
      launch: async (rt, t) => [
        await rowBlockCopy(rt, { block: t.block!, dst: t.out!, batches: l.B }),
        await rowBlockCopyBackward(rt, { src: t.dout!, dblock: t.dblock!, batches: l.B }),
      ],
      reference: (inputs) => ({
        out: rowBlockCopyRef(Float64Array.from(x), inputs.block!, l),
        dblock: rowBlockCopyBackwardRef(inputs.dout!, l).dblock,
      }),
    });
  });
});
