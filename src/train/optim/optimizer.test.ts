import { describe, expect, it } from 'vitest';
import { type AdamwState, adamwStepRef } from '../../gpu/kernels/adamw/adamw.ref';
import { gradNormRef } from '../../gpu/kernels/grad-norm/grad-norm.ref';
import { sgdStepRef } from '../../gpu/kernels/sgd/sgd.ref';
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, releaseTensor, uploadTensor, writeTensor } from '../../gpu/tensor';
import { compareToReference, formatComparison, type Tolerance } from '../../gpu/testing/compare';
import { product, randomArray, seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import type { TrainableEntry } from '../peft/adaptation';
import {
  GpuOptimizer,
  OptimizerConfigError,
  type OptimizerHyperparameters,
  type OptimizerKind,
  weightDecayFor,
} from './optimizer';
import { lrForUpdate, type Schedule } from './schedule';

// Matrices (decayed), a bias and a 1-element tensor (not decayed), at odd sizes.
const shapes: Record<string, number[]> = {
  'h.0.attn.c_attn.weight': [5, 7],
  'h.0.attn.c_attn.bias': [7],
  'h.0.mlp.c_fc.weight': [16, 8],
  scale: [1],
  'q_proj.lora_A.weight': [3, 13],
  'q_proj.lora_B.weight': [11, 3],
};
const names = Object.keys(shapes);
/** Gradient scale per step: with maxGradNorm 5, step 1 clips, step 2 does not, step 3 clips. */
const gradScales = [3, 0.2, 1];

interface Run {
  kind: OptimizerKind;
  hyper: OptimizerHyperparameters;
  schedule: Schedule;
}

function makeData(seed: number) {
  const random = seededRandom(seed);
  const params = names.map((n) => randomArray(random, product(shapes[n]!)));
  const grads = gradScales.map((scale) => names.map((n) => randomArray(random, product(shapes[n]!), scale)));
  return { params, grads };
}

/** torch.nn.utils.clip_grad_norm_ then torch.optim.AdamW / SGD, in float64, from the same f32 inputs. */
function simulate(run: Run, data: ReturnType<typeof makeData>) {
  const { hyper } = run;
  let states: AdamwState[] = data.params.map((p) => ({
    param: Float64Array.from(p),
    expAvg: new Float64Array(p.length),
    expAvgSq: new Float64Array(p.length),
  }));
  const clips = data.grads.map((stepGrads, k) => {
    const t = k + 1;
    const scheduled = lrForUpdate(hyper.lr, run.schedule, t);
    const grads = stepGrads.map((g) => Float64Array.from(g));
    const clip = gradNormRef(grads, hyper.maxGradNorm);
    states = states.map((state, i) => {
      // Stated here, not taken from the optimizer: matrices decay, vectors and scalars do not; under
      // LoRA+, lora_B and every vector take the ratio times the rate (PEFT's groupB).
      const shape = shapes[names[i]!]!;
      const weightDecay = shape.length >= 2 ? hyper.weightDecay : 0;
      const inGroupB = names[i]!.includes('lora_B') || shape.length === 1;
      const lr = scheduled * (hyper.loraPlusLrRatio !== undefined && inGroupB ? hyper.loraPlusLrRatio : 1);
      if (run.kind === 'sgd') {
        return { ...state, param: sgdStepRef(state.param, grads[i]!, { lr, weightDecay }, clip.coefficient) };
      }
      const [beta1, beta2] = hyper.betas;
      return adamwStepRef(
        state,
        grads[i]!,
        { lr, beta1, beta2, eps: hyper.eps, weightDecay },
        t,
        clip.coefficient,
      );
    });
    return clip;
  });
  return { states, clips };
}

async function trainThreeSteps(runtime: Runtime, run: Run, seed: number) {
  const data = makeData(seed);
  const entries: TrainableEntry[] = names.map((name, i) => ({
    name,
    param: uploadTensor(runtime.arena, name, shapes[name]!, data.params[i]!),
    grad: uploadTensor(runtime.arena, `${name}.grad`, shapes[name]!, data.grads[0]![i]!),
  }));
  // Leave dirty buffers of every state size in the arena's pool: the optimizer must zero what it reuses.
  for (const name of names) {
    for (let copy = 0; copy < 2; copy++) {
      const dirty = new Float32Array(product(shapes[name]!)).fill(123);
      releaseTensor(runtime.arena, uploadTensor(runtime.arena, 'dirty', shapes[name]!, dirty));
    }
  }
  const optimizer = await GpuOptimizer.create(runtime, entries, run.kind, run.hyper);
  const step = new RecordedStep(runtime, 'optimizer step', optimizer.dispatches());
  for (const [k, grads] of data.grads.entries()) {
    entries.forEach((e, i) => {
      writeTensor(runtime.device, e.grad, grads[i]!);
    });
    optimizer.setStep(k + 1, lrForUpdate(run.hyper.lr, run.schedule, k + 1));
    step.replay();
  }
  const got = {
    params: await Promise.all(entries.map((e) => downloadTensor(runtime.arena, e.param))),
    moments: await Promise.all(
      optimizer.state().map(async (m) => ({
        expAvg: await downloadTensor(runtime.arena, m.expAvg),
        expAvgSq: await downloadTensor(runtime.arena, m.expAvgSq),
      })),
    ),
    clip: await optimizer.readClipState(),
    norm: await optimizer.readGradNorm(),
    dispatchCount: step.dispatchCount,
  };
  const release = () => {
    optimizer.release();
    for (const e of entries) {
      releaseTensor(runtime.arena, e.param);
      releaseTensor(runtime.arena, e.grad);
    }
  };
  return { got, want: simulate(run, data), release };
}

function expectClose(name: string, got: Float32Array, want: Float64Array, tol: Tolerance) {
  const comparison = compareToReference(name, got, want, tol);
  expect(comparison.ok, formatComparison(comparison, [got.length], tol)).toBe(true);
}

// f32 through three steps, the clip coefficient included (its rounding scales every update).
const tolParam = { atol: 1e-6, rtol: 1e-5 };
const tolMoment = { atol: 1e-7, rtol: 1e-5 };

describe('GpuOptimizer', () => {
  it('runs clipped AdamW with a linear warmup schedule as torch and HF do, over three replays', async () => {
    const runtime = await testRuntime();
    const before = runtime.arena.stats().liveBytes;
    const run: Run = {
      kind: 'adamw',
      hyper: { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, maxGradNorm: 5 },
      // λ = 0, ½, 1 for updates 1, 2, 3: the first update moves only the moments.
      schedule: { kind: 'linear', warmupSteps: 2, totalSteps: 5 },
    };
    const { got, want, release } = await trainThreeSteps(runtime, run, 7);
    expect(want.clips.map((c) => c.coefficient < 1)).toEqual([true, false, true]);
    expect(got.dispatchCount).toBe(1 + 1 + names.length);
    names.forEach((name, i) => {
      expectClose(name, got.params[i]!, want.states[i]!.param, tolParam);
      expectClose(`${name}.exp_avg`, got.moments[i]!.expAvg, want.states[i]!.expAvg, tolMoment);
      expectClose(`${name}.exp_avg_sq`, got.moments[i]!.expAvgSq, want.states[i]!.expAvgSq, tolMoment);
    });
    const last = want.clips[2]!;
    expect(got.norm).toBeCloseTo(last.norm, 4);
    expect(Math.abs(got.clip.coefficient - last.coefficient)).toBeLessThan(1e-6);
    release();
    expect(runtime.arena.stats().liveBytes).toBe(before);
  });

  it('runs SGD without clipping (maxGradNorm 0) on a cosine schedule', async () => {
    const runtime = await testRuntime();
    const run: Run = {
      kind: 'sgd',
      hyper: { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0 },
      schedule: { kind: 'cosine', warmupSteps: 0, totalSteps: 3 },
    };
    const { got, want, release } = await trainThreeSteps(runtime, run, 8);
    expect(got.moments).toEqual([]);
    names.forEach((name, i) => {
      expectClose(name, got.params[i]!, want.states[i]!.param, tolParam);
    });
    expect(got.clip.coefficient).toBe(1);
    expect(got.norm).toBeCloseTo(want.clips[2]!.norm, 4);
    release();
  });

  it.each<OptimizerKind>(['adamw', 'sgd'])(
    "gives LoRA's B and every vector 16 times the rate under LoRA+ (%s), as PEFT groups them",
    async (kind) => {
      const runtime = await testRuntime();
      const run: Run = {
        kind,
        hyper: {
          lr: 0.01,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weightDecay: 0.1,
          maxGradNorm: 5,
          loraPlusLrRatio: 16,
        },
        schedule: { kind: 'linear', warmupSteps: 0, totalSteps: 4 },
      };
      const { got, want, release } = await trainThreeSteps(runtime, run, 9);
      names.forEach((name, i) => {
        expectClose(name, got.params[i]!, want.states[i]!.param, tolParam);
      });
      release();
    },
  );

  it('decays matrices only', () => {
    expect(weightDecayFor([5, 7], 0.1)).toBe(0.1);
    expect(weightDecayFor([2, 3, 4], 0.1)).toBe(0.1);
    expect(weightDecayFor([7], 0.1)).toBe(0);
    expect(weightDecayFor([], 0.1)).toBe(0);
  });

  it('rejects bad settings and entries with named errors', async () => {
    const runtime = await testRuntime();
    const hyper: OptimizerHyperparameters = {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    };
    const w = uploadTensor(runtime.arena, 'w', [2, 3], new Float32Array(6));
    const g = uploadTensor(runtime.arena, 'w.grad', [3, 3], new Float32Array(9));
    const entry = { name: 'w', param: w, grad: w };
    const create = (entries: TrainableEntry[], h = hyper) =>
      GpuOptimizer.create(runtime, entries, 'adamw', h);
    await expect(create([{ name: 'w', param: w, grad: g }])).rejects.toThrow(
      /w: parameter w\[2, 3\] and gradient w\.grad\[3, 3\] differ in size/,
    );
    await expect(create([entry, entry])).rejects.toThrow(/listed twice/);
    await expect(create([])).rejects.toThrow(OptimizerConfigError);
    await expect(create([entry], { ...hyper, maxGradNorm: -1 })).rejects.toThrow(/Max grad norm/);
    await expect(create([entry], { ...hyper, betas: [0.9, 1] })).rejects.toThrow(/Betas/);
    releaseTensor(runtime.arena, w);
    releaseTensor(runtime.arena, g);
  });
});
