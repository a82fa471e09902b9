import { describe, expect, it } from 'vitest';
import { releaseDispatches, submitDispatches } from '../../dispatch';
import { createTensor, downloadBytes, releaseTensor, type Tensor, writeTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { add } from './add';
import { addRef } from './add.ref';

// One f32 add: the result is the correctly rounded sum.
const tol = { atol: 0, rtol: 2 ** -24 };

describe('residual add', () => {
  it.each([[[1]], [[1001]], [[45, 65]], [[2, 7, 64]], [[3, 5, 7]]])('out = a + b at %j', async (shape) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const random = seededRandom(n);
    await checkKernel(await testRuntime(), {
      name: `add [${shape.join(', ')}]`,
      inputs: { a: { shape, data: randomArray(random, n) }, b: { shape, data: randomArray(random, n, 100) } },
      outputs: { out: { shape, tol } },
      launch: (rt, t) => add(rt, { a: t.a!, b: t.b!, out: t.out! }),
      reference: (x) => ({ out: addRef(x.a!, x.b!) }),
    });
  });

  it.each([[[1]], [[1001]], [[45, 65]]])('out += b at %j', async (shape) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const random = seededRandom(n + 1);
    const initial = randomArray(random, n);
    await checkKernel(await testRuntime(), {
      name: `add into [${shape.join(', ')}]`,
      inputs: { b: { shape, data: randomArray(random, n) } },
      outputs: { out: { shape, tol, initial } },
      launch: (rt, t) => add(rt, { b: t.b!, out: t.out!, accumulate: true }),
      reference: (x) => ({ out: addRef(Float64Array.from(initial), x.b!) }),
    });
  });

  it('leaves the padding after a ragged last vec4 untouched', async () => {
    const runtime = await testRuntime();
    const a = createTensor(runtime.arena, 'a', [5]);
    const b = createTensor(runtime.arena, 'b', [5]);
    const out = createTensor(runtime.arena, 'out', [5]);
    // The same 32-byte buffers seen whole, padding included.
    const whole = (t: Tensor): Tensor => ({ ...t, shape: [8], size: 8 });
    writeTensor(runtime.device, whole(a), new Float32Array(8).fill(1));
    writeTensor(runtime.device, whole(b), new Float32Array(8).fill(2));
    writeTensor(runtime.device, whole(out), new Float32Array(8).fill(-7));
    const dispatch = await add(runtime, { a, b, out });
    try {
      submitDispatches(runtime, [dispatch]);
      const got = new Float32Array(await downloadBytes(runtime.arena, whole(out)));
      expect(Array.from(got)).toEqual([3, 3, 3, 3, 3, -7, -7, -7]);
    } finally {
      releaseDispatches(runtime, [dispatch]);
      for (const t of [a, b, out]) releaseTensor(runtime.arena, t);
    }
  });

  it('refuses mismatched sizes and an out that aliases an input', async () => {
    const runtime = await testRuntime();
    const a = createTensor(runtime.arena, 'x', [2, 3]);
    const b = createTensor(runtime.arena, 'attn_out', [3, 3]);
    try {
      await expect(add(runtime, { a, b, out: a })).rejects.toThrow(
        /same number of elements \(x\[2, 3\], attn_out\[3, 3\], x\[2, 3\]\)/,
      );
      await expect(add(runtime, { a, b: a, out: a })).rejects.toThrow(/use \{ accumulate: true \}/);
    } finally {
      releaseTensor(runtime.arena, a);
      releaseTensor(runtime.arena, b);
    }
  });
});
