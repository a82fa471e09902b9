import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { foldSplits } from './split-k';

/** Split-K's fold against float64: out = Σ_s partials[s] (+ out). */
describe('split-K fold', () => {
  it.each([
    { splits: 3, rows: 7, cols: 13, accumulate: false },
    { splits: 16, rows: 5, cols: 37, accumulate: true },
    { splits: 2, rows: 1, cols: 1, accumulate: false },
    { splits: 5, rows: 61, cols: 33, accumulate: true },
  ])('sums $splits partials of $rows × $cols (accumulate: $accumulate)', async (c) => {
    const random = seededRandom(c.splits * 101 + c.rows * 7 + c.cols);
    const count = c.rows * c.cols;
    const initial = c.accumulate ? randomArray(random, count) : undefined;
    await checkKernel(await testRuntime(), {
      name: `split-K fold ${JSON.stringify(c)}`,
      inputs: {
        partials: { shape: [c.splits, c.rows, c.cols], data: randomArray(random, c.splits * count) },
      },
      outputs: {
        out: {
          shape: [c.rows, c.cols],
          tol: { atol: 1e-6 * c.splits, rtol: 1e-6 },
          ...(initial ? { initial } : {}),
        },
      },
      launch: (runtime, t) =>
        foldSplits(runtime, {
          partials: t.partials!,
          splits: c.splits,
          out: t.out!,
          accumulate: c.accumulate,
        }),
      reference: (x) => {
        const out = Float64Array.from(initial ?? new Float32Array(count));
        for (let s = 0; s < c.splits; s++)
          for (let i = 0; i < count; i++) out[i]! += x.partials![s * count + i]!;
        return { out };
      },
    });
  });
});
