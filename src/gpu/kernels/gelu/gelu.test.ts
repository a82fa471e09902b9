import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { gelu, geluBackward } from './gelu';
import { geluBackwardRef, geluRef } from './gelu.ref';

// One exp and a dozen f32 operations per element. dx cancels to 0 near x ≈ −0.75 (GELU's minimum), and
// the far negative tail is ~1e-38 where the reference is 0, hence the atol.
const tol = { atol: 1e-6, rtol: 1e-5 };

/** Inputs where tanh and exp overflow, x³ overflows, or the result lives on cancellation. */
const extremes = [
  0, -0, 1e-30, -1e-30, 1e-3, -1e-3, -0.75, 5, -5, 9.99, -9.99, 10, -10, 10.01, -10.01, 15, -15, 30, -30, 100,
  -100, 1e4, -1e4, 1e13, -1e13, 3e38, -3e38,
];

async function checkGelu(shape: number[], xData?: Float32Array) {
  const n = shape.reduce((a, b) => a * b, 1);
  const random = seededRandom(n);
  await checkKernel(await testRuntime(), {
    name: `gelu [${shape.join(', ')}]`,
    inputs: {
      x: { shape, data: xData ?? randomArray(random, n, 6) },
      dy: { shape, data: randomArray(random, n) },
    },
    outputs: { y: { shape, tol }, dx: { shape, tol } },
    launch: async (rt, t) => [
      await gelu(rt, { x: t.x!, out: t.y! }),
      await geluBackward(rt, { x: t.x!, dy: t.dy!, dx: t.dx! }),
    ],
    reference: (x) => ({ y: geluRef(x.x!), dx: geluBackwardRef(x.x!, x.dy!) }),
  });
}

describe('gelu (tanh approximation)', () => {
  it.each([[[1]], [[1001]], [[45, 65]], [[16, 128]], [[3, 7, 11]]])(
    'forward and backward at %j',
    async (shape) => {
      await checkGelu(shape);
    },
  );

  it('stays finite and exact at extreme inputs', async () => {
    await checkGelu([extremes.length], Float32Array.from(extremes));
  });

  it('refuses mismatched sizes and an output that aliases its input', async () => {
    const runtime = await testRuntime();
    const x = createTensor(runtime.arena, 'x', [4, 6]);
    const y = createTensor(runtime.arena, 'y', [4, 5]);
    try {
      await expect(gelu(runtime, { x, out: y })).rejects.toThrow(
        /same number of elements \(x\[4, 6\], y\[4, 5\]\)/,
      );
      await expect(gelu(runtime, { x, out: x })).rejects.toThrow(/output x shares its buffer with input x/);
    } finally {
      releaseTensor(runtime.arena, x);
      releaseTensor(runtime.arena, y);
    }
  });
});
