import { describe, it } from 'vitest';
import { releaseTensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { kvAppend } from './kv-append';
import { kvAppendRef } from './kv-append.ref';

describe('KV-cache append', () => {
  it.each([
    { B: 1, T: 1, S: 9, W: 16, offsets: [5] },
    { B: 2, T: 3, S: 7, W: 13, offsets: [0, 4] },
    { B: 1, T: 5, S: 6, W: 3, offsets: [3] }, // runs past the end: the overflow is dropped
  ])('%j', async ({ B, T, S, W, offsets }) => {
    const random = seededRandom(B * 100 + T * 10 + S);
    const initial = randomArray(random, B * S * W);
    await checkKernel(await testRuntime(), {
      name: `kv append ${JSON.stringify({ B, T, S, W })}`,
      inputs: { src: { shape: [B, T, W], data: randomArray(random, B * T * W) } },
      outputs: { cache: { shape: [B, S, W], tol: { atol: 0, rtol: 0 }, initial } },
      launch: async (rt, t) => {
        const offsetTensor = uploadTensor(rt.arena, 'offsets', [B], Uint32Array.from(offsets));
        const dispatch = await kvAppend(rt, { src: t.src!, cache: t.cache!, offsets: offsetTensor });
        // The dispatch only binds the buffer; it stays valid until the queue has run.
        queueMicrotask(() => releaseTensor(rt.arena, offsetTensor));
        return dispatch;
      },
      reference: (x) => ({ cache: kvAppendRef(Float64Array.from(initial), x.src!, offsets, { B, T, S, W }) }),
    });
  });
});
