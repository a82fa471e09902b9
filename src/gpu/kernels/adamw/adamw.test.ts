import { describe, expect, it } from 'vitest';
import { submitDispatches } from '../../dispatch';
import type { Runtime } from '../../runtime';
import { createTensor, downloadTensor, releaseTensor, type Tensor, uploadTensor } from '../../tensor';
import { checkKernel } from '../../testing/check-kernel';
import { randomArray, seededRandom } from '../../testing/random';
import { testRuntime } from '../../testing/test-runtime';
import { adamw } from './adamw';
import { type AdamwState, adamwStepRef } from './adamw.ref';
import { createOptimizerStepUniform, type OptimizerStepUniform } from './step-uniform';

interface Case {
  size: number;
  /** t of the first of the three steps; above 1, the moments start from random values. */
  firstStep?: number;
  weightDecay?: number;
  gradScale?: number;
  /** This tensor's own rate multiplier (LoRA+'s B); the reference takes lr × it. */
  lrScale?: number;
}

const betas = [0.9, 0.999] as const;
const eps = 1e-8;
const lrs = [0.05, 0.02, 0.01];
const clips = [1, 0.37, 1];
// f32 rounding of a few operations per step, over three steps. p moves by about lr per step whatever
// the gradient's scale; m scales with g and v with g², so their atol does too: a few f32 ulps of their
// largest terms (0.1·g and 0.001·g²), for sums that cancel.
const tolParam = { atol: 1e-6, rtol: 4e-6 };
const tolMoments = (scale: number) => ({
  m: { atol: 5e-8 * scale, rtol: 4e-6 },
  v: { atol: 1e-10 * scale * scale, rtol: 4e-6 },
});

async function checkAdamw(c: Case) {
  const runtime = await testRuntime();
  const random = seededRandom(c.size * 13 + (c.firstStep ?? 1));
  const { size } = c;
  const t0 = c.firstStep ?? 1;
  const scale = c.gradScale ?? 1;
  const wd = c.weightDecay ?? 0.1;
  const fresh = t0 === 1;
  const initial = {
    p: randomArray(random, size),
    m: fresh ? new Float32Array(size) : randomArray(random, size, 0.1 * scale),
    v: fresh ? new Float32Array(size) : randomArray(random, size, 0.01 * scale * scale).map(Math.abs),
  };
  const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
  lrs.forEach((_, k) => {
    inputs[`g${k}`] = { shape: [size], data: randomArray(random, size, scale) };
    inputs[`clip${k}`] = { shape: [4], data: Float32Array.from([0, clips[k]!, 0, 0]) };
  });
  // One shared uniform per step, as the trainer rewrites one between replays.
  const steps: OptimizerStepUniform[] = lrs.map((lr, k) => {
    const step = createOptimizerStepUniform(runtime, betas);
    step.set(t0 + k, lr);
    return step;
  });
  try {
    await checkKernel(runtime, {
      name: `adamw ${JSON.stringify(c)}`,
      inputs,
      outputs: {
        p: { shape: [size], tol: tolParam, initial: initial.p },
        m: { shape: [size], tol: tolMoments(scale).m, initial: initial.m },
        v: { shape: [size], tol: tolMoments(scale).v, initial: initial.v },
      },
      launch: (rt, t) =>
        Promise.all(
          steps.map((step, k) =>
            adamw(rt, {
              param: t.p!,
              grad: t[`g${k}`]!,
              expAvg: t.m!,
              expAvgSq: t.v!,
              clipState: t[`clip${k}`]!,
              step,
              eps,
              weightDecay: wd,
              lrScale: c.lrScale,
            }),
          ),
        ),
      reference: (x) => {
        let state: AdamwState = {
          param: Float64Array.from(initial.p),
          expAvg: Float64Array.from(initial.m),
          expAvgSq: Float64Array.from(initial.v),
        };
        lrs.forEach((lr, k) => {
          const hyper = { lr: lr * (c.lrScale ?? 1), beta1: betas[0], beta2: betas[1], eps, weightDecay: wd };
          state = adamwStepRef(state, x[`g${k}`]!, hyper, t0 + k, clips[k]);
        });
        return { p: state.param, m: state.expAvg, v: state.expAvgSq };
      },
    });
  } finally {
    for (const step of steps) runtime.arena.release(step.buffer);
  }
}

describe('AdamW step (three steps, state carried)', () => {
  it.each<Case>([
    { size: 1 },
    { size: 45 * 65 },
    { size: 1024 }, // whole vec4s only
    { size: 333, weightDecay: 0 },
    { size: 4097, firstStep: 10 }, // moments mid-training
    { size: 101, gradScale: 1e3 },
    { size: 101, gradScale: 1e-3 },
    { size: 333, lrScale: 16 }, // LoRA+'s B: its rate and its decay both 16 × the step's
    { size: 45, firstStep: 10, lrScale: 0.25 },
  ])('%j', async (c) => {
    await checkAdamw(c);
  });

  it('leaves the padding after the last element as it was', async () => {
    const runtime = await testRuntime();
    // Tensors of 5 elements in buffers padded to 8 (each [8] upload viewed as [5]); the padding holds a
    // finite sentinel that an update would change.
    const sentinel = 7;
    const padded = (label: string, fill: number) => {
      const data = new Float32Array(8).fill(fill);
      data.fill(sentinel, 5);
      return uploadTensor(runtime.arena, label, [8], data);
    };
    const full = [padded('p', 1), padded('g', 0.5), padded('m', 0.1), padded('v', 0.2), padded('clip', 1)];
    const [p, g, m, v, clip] = full.map((t): Tensor => ({ ...t, shape: [5], size: 5 })) as Tensor[];
    const step = createOptimizerStepUniform(runtime, betas);
    step.set(1, 0.1);
    const args = {
      param: p!,
      grad: g!,
      expAvg: m!,
      expAvgSq: v!,
      clipState: { ...clip!, shape: [4], size: 4 },
    };
    const dispatch = await adamw(runtime, { ...args, step, eps, weightDecay: 0.1 });
    submitDispatches(runtime, [dispatch]);
    for (const [t, before] of [
      [full[0]!, 1],
      [full[2]!, 0.1],
      [full[3]!, 0.2],
    ] as const) {
      const after = await downloadTensor(runtime.arena, t);
      expect(
        after.slice(0, 5).every((x) => x !== before && Number.isFinite(x)),
        t.label,
      ).toBe(true);
      expect([...after.slice(5)], t.label).toEqual([sentinel, sentinel, sentinel]);
    }
    for (const t of full) releaseTensor(runtime.arena, t);
    runtime.arena.release(dispatch.owned[0]!);
    runtime.arena.release(step.buffer);
  });

  it('rejects mismatched tensors with a message naming them', async () => {
    const runtime: Runtime = await testRuntime();
    const make = (label: string, shape: number[]) => createTensor(runtime.arena, label, shape);
    const [p, g, m, v, clip] = [
      make('w', [4, 5]),
      make('w.grad', [4, 6]),
      make('m', [20]),
      make('v', [20]),
      make('c', [4]),
    ];
    const step = createOptimizerStepUniform(runtime, betas);
    const args = { param: p, grad: g, expAvg: m, expAvgSq: v, clipState: clip, step, eps, weightDecay: 0 };
    await expect(adamw(runtime, args)).rejects.toThrow(/w\.grad\[4, 6\] and w\[4, 5\] differ in size/);
    await expect(adamw(runtime, { ...args, grad: m })).rejects.toThrow(/distinct buffers/);
    for (const t of [p, g, m, v, clip]) releaseTensor(runtime.arena, t);
    runtime.arena.release(step.buffer);
  });
});
