import { describe, expect, it } from 'vitest';
import { createTensor, releaseTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { type ActivationKind, activation, activationBackward, activationKinds } from './activation';
import { activationBackwardRef, activationRef } from './activation.ref';

// A dozen f32 operations and one or two exps per element; the exact GELU's erfc fit adds its own 1.2e-7
// relative error. Values cancel to 0 near silu's and GELU's minima, and the far negative tails are
// ~1e-22 where the kernel gives 0, hence the atol.
const tol = { atol: 1e-6, rtol: 2e-5 };

/** Inputs where exp overflows, x² overflows, the tails underflow, or relu sits on its kink. */
const extremes = [
  0, -0, 1e-30, -1e-30, 1e-3, -1e-3, -0.75, -1.28, 5, -5, 9.99, -9.99, 10, -10, 10.01, -10.01, 15, -15, 30,
  -30, 100, -100, 1e4, -1e4, 1e13, -1e13, 3e38, -3e38,
];

async function checkActivation(kind: ActivationKind, shape: number[], xData?: Float32Array) {
  const n = shape.reduce((a, b) => a * b, 1);
  const random = seededRandom(n);
  await checkKernel(await testRuntime(), {
    name: `${kind} [${shape.join(', ')}]`,
    inputs: {
      x: { shape, data: xData ?? randomArray(random, n, 6) },
      dy: { shape, data: randomArray(random, n) },
    },
    outputs: { y: { shape, tol }, dx: { shape, tol } },
    launch: async (rt, t) => [
      await activation(rt, { kind, x: t.x!, out: t.y! }),
      await activationBackward(rt, { kind, x: t.x!, dy: t.dy!, dx: t.dx! }),
    ],
    reference: (x) => ({ y: activationRef(kind, x.x!), dx: activationBackwardRef(kind, x.x!, x.dy!) }),
  });
}

describe.each(activationKinds)('activation %s', (kind) => {
  it.each([[[1]], [[1001]], [[45, 65]], [[3, 7, 11]]])('forward and backward at %j', async (shape) => {
    await checkActivation(kind, shape);
  });

  it('stays finite and exact at extreme inputs', async () => {
    await checkActivation(kind, [extremes.length], Float32Array.from(extremes));
  });
});

describe('activation launchers', () => {
  it('refuse mismatched sizes, an aliased output and an unknown kind', async () => {
    const runtime = await testRuntime();
    const x = createTensor(runtime.arena, 'x', [4, 6]);
    const y = createTensor(runtime.arena, 'y', [4, 5]);
    try {
      await expect(activation(runtime, { kind: 'silu', x, out: y })).rejects.toThrow(
        /same number of elements \(x\[4, 6\], y\[4, 5\]\)/,
      );
      await expect(activation(runtime, { kind: 'relu', x, out: x })).rejects.toThrow(
        /output x shares its buffer with input x/,
      );
      await expect(
        activation(runtime, {
          kind: 'gelu_new' as ActivationKind,
          x,
          out: createTensor(runtime.arena, 'z', [24]),
        }),
      ).rejects.toThrow(/unknown activation "gelu_new"; use one of relu, silu, gelu, tanh/);
    } finally {
      releaseTensor(runtime.arena, x);
      releaseTensor(runtime.arena, y);
    }
  });
});
