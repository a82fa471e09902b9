import { describe, it } from 'vitest';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { dropout } from './dropout';
import { dropoutBackwardRef, dropoutForwardRef } from './dropout.ref';
import { createRngState } from './rng-state';

// Exact: the mask is integer arithmetic and the scale one f32 multiply.
const tol = { atol: 0, rtol: 1e-6 };

describe('dropout', () => {
  it.each([
    { count: 1, p: 0.5 },
    { count: 1001, p: 0.1 },
    { count: 4097, p: 0.75 },
    { count: 333, p: 0 },
  ])('forward and backward at %j', async ({ count, p }) => {
    const random = seededRandom(count);
    const key = { seed: 77, step: 5, stream: 9 };
    await checkKernel(await testRuntime(), {
      name: `dropout ${count} p=${p}`,
      inputs: {
        x: { shape: [count], data: randomArray(random, count) },
        dy: { shape: [count], data: randomArray(random, count) },
      },
      outputs: { y: { shape: [count], tol }, dx: { shape: [count], tol } },
      launch: async (rt, t) => {
        const rng = createRngState(rt, key.seed);
        rng.setStep(key.step);
        return [
          await dropout(rt, { x: t.x!, y: t.y!, p, rng, stream: key.stream }),
          await dropout(rt, { x: t.dy!, y: t.dx!, p, rng, stream: key.stream }),
        ];
      },
      reference: (x) => ({ y: dropoutForwardRef(x.x!, key, p), dx: dropoutBackwardRef(x.dy!, key, p) }),
    });
  });
});
