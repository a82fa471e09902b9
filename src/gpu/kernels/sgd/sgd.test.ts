import { describe, expect, it } from 'vitest';
import { submitDispatches } from '../../dispatch';
import { createTensor, downloadTensor, releaseTensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { createOptimizerStepUniform } from '../adamw/step-uniform';
import { sgd } from './sgd';
import { sgdStepRef } from './sgd.ref';

const lrs = [0.1, 0.05, 0.2];
const clips = [1, 0.37, 1];
// Two roundings per step, over three steps.
const tol = { atol: 2e-7, rtol: 2e-6 };

describe('SGD step (three steps)', () => {
  it.each([
    { size: 1, weightDecay: 0.1 },
    { size: 45 * 65, weightDecay: 0.1 },
    { size: 1024, weightDecay: 0 },
    { size: 4097, weightDecay: 0.01 },
    { size: 77, weightDecay: 0.1, lrScale: 16 }, // LoRA+'s B
  ])('%j', async ({ size, weightDecay, lrScale }) => {
    const runtime = await testRuntime();
    const random = seededRandom(size + 3);
    const initial = randomArray(random, size);
    const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
    lrs.forEach((_, k) => {
      inputs[`g${k}`] = { shape: [size], data: randomArray(random, size) };
      inputs[`clip${k}`] = { shape: [4], data: Float32Array.from([0, clips[k]!, 0, 0]) };
    });
    const steps = lrs.map((lr, k) => {
      const step = createOptimizerStepUniform(runtime, [0.9, 0.999]);
      step.set(k + 1, lr);
      return step;
    });
    try {
      await checkKernel(runtime, {
        name: `sgd ${size} wd ${weightDecay}`,
        inputs,
        outputs: { p: { shape: [size], tol, initial } },
        launch: (rt, t) =>
          Promise.all(
            steps.map((step, k) =>
              sgd(rt, {
                param: t.p!,
                grad: t[`g${k}`]!,
                clipState: t[`clip${k}`]!,
                step,
                weightDecay,
                lrScale,
              }),
            ),
          ),
        reference: (x) => {
          let p: Float64Array = Float64Array.from(initial);
          lrs.forEach((lr, k) => {
            p = sgdStepRef(p, x[`g${k}`]!, { lr: lr * (lrScale ?? 1), weightDecay }, clips[k]);
          });
          return { p };
        },
      });
    } finally {
      for (const step of steps) runtime.arena.release(step.buffer);
    }
  });

  it('leaves the padding after the last element as it was', async () => {
    const runtime = await testRuntime();
    // p of 5 elements in a buffer padded to 8, the padding holding a sentinel an update would change.
    const full = uploadTensor(runtime.arena, 'p', [8], Float32Array.from([1, 1, 1, 1, 1, 7, 7, 7]));
    const g = uploadTensor(runtime.arena, 'g', [5], new Float32Array(5).fill(0.5));
    const clip = uploadTensor(runtime.arena, 'clip', [4], Float32Array.from([0, 1, 0, 0]));
    const step = createOptimizerStepUniform(runtime, [0.9, 0.999]);
    step.set(1, 0.1);
    const param = { ...full, shape: [5], size: 5 };
    const dispatch = await sgd(runtime, { param, grad: g, clipState: clip, step, weightDecay: 0.1 });
    submitDispatches(runtime, [dispatch]);
    const after = await downloadTensor(runtime.arena, full);
    for (const x of after.slice(0, 5)) expect(x).toBeCloseTo(1 - 0.1 * (0.5 + 0.1), 6);
    expect([...after.slice(5)]).toEqual([7, 7, 7]);
    for (const t of [full, g, clip]) releaseTensor(runtime.arena, t);
    for (const b of [...dispatch.owned, step.buffer]) runtime.arena.release(b);
  });

  it('rejects momentum, which it does not implement', async () => {
    const runtime = await testRuntime();
    const p = createTensor(runtime.arena, 'w', [5]);
    const g = createTensor(runtime.arena, 'w.grad', [5]);
    const clip = createTensor(runtime.arena, 'clip', [4]);
    const step = createOptimizerStepUniform(runtime, [0.9, 0.999]);
    await expect(
      sgd(runtime, { param: p, grad: g, clipState: clip, step, weightDecay: 0, momentum: 0.9 }),
    ).rejects.toThrow(/momentum 0\.9 is not supported/);
    for (const t of [p, g, clip]) releaseTensor(runtime.arena, t);
    runtime.arena.release(step.buffer);
  });
});
