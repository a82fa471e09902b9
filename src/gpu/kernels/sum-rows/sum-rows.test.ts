import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { sumRows } from './sum-rows';
import { sumRowsRef } from './sum-rows.ref';

describe('sum rows (bias gradient)', () => {
  it.each([
    { rows: 45, cols: 65 },
    { rows: 1, cols: 1 },
    { rows: 1000, cols: 3 },
    { rows: 7, cols: 33, accumulate: true },
  ])('%j', async ({ rows, cols, accumulate }) => {
    const random = seededRandom(rows + cols);
    const initial = accumulate ? randomArray(random, cols) : undefined;
    await checkKernel(await testRuntime(), {
      name: `sum rows ${rows}x${cols}`,
      inputs: { x: { shape: [rows, cols], data: randomArray(random, rows * cols) } },
      // A reduction over `rows` terms: the tolerance grows with it.
      outputs: {
        out: { shape: [cols], tol: { atol: 1e-6 * rows, rtol: 1e-5 }, ...(initial ? { initial } : {}) },
      },
      launch: (rt, t) => sumRows(rt, { x: t.x!, out: t.out!, accumulate }),
      reference: (x) => {
        const sums = sumRowsRef(x.x!, rows, cols);
        return { out: initial ? sums.map((v, i) => v + (initial[i] as number)) : sums };
      },
    });
  });
});
