/**
 * tfjs-backend-webgpu's matMul on the same device and shapes, as a second, independent measurement of
 * what the device's matmul can reach (it feeds the ceiling; run-kernels.ts). Checked like Whetstone's:
 * sampled elements against float64 before timing. Timing: `reps` matMuls issued back to back, then one
 * `await data()` of the last (which waits for all of them), divided by `reps`.
 */
import * as tf from '@tensorflow/tfjs';
import type { GpuDevice } from '../../gpu/device/acquire-device';
import { randomArray, seededRandom } from '../../gpu/testing/random';
import { startTfjsOnDevice } from '../tfjs-side';
import { type MatmulShape, matmulFlops } from './kernel-shapes';
import type { KernelTiming, TimingBudget } from './matmul-bench';
import { spotCheck } from './spot-check';
import { gflops } from './time-dispatches';

async function timedReps(run: () => tf.Tensor, reps: number): Promise<number> {
  const started = performance.now();
  let last: tf.Tensor | undefined;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = run();
  }
  await last?.data();
  last?.dispose();
  return performance.now() - started;
}

export async function benchTfjsMatmul(
  gpu: GpuDevice,
  s: MatmulShape,
  budget: TimingBudget,
): Promise<KernelTiming> {
  if (s.R > 0) throw new Error(`tfjs has no fused low-rank matmul to compare for ${s.name}.`);
  await startTfjsOnDevice(gpu);
  const random = seededRandom(s.M * 31 + s.N * 7 + s.K);
  const a = randomArray(random, s.M * s.K);
  const b = randomArray(random, s.K * s.N);
  const aT = tf.tensor(a, [s.M, s.K]);
  const bT = tf.tensor(b, s.transB ? [s.N, s.K] : [s.K, s.N]);
  const run = () => tf.matMul(aT, bT, false, s.transB);
  const name = s.name;
  const flops = matmulFlops(s);
  try {
    const first = run();
    const got = (await first.data()) as Float32Array;
    first.dispose();
    const element = (index: number) => {
      const m = Math.floor(index / s.N);
      const n = index % s.N;
      let sum = 0;
      for (let k = 0; k < s.K; k++)
        sum += (a[m * s.K + k] as number) * ((s.transB ? b[n * s.K + k] : b[k * s.N + n]) as number);
      return sum;
    };
    const check = spotCheck(name, got, budget.samples, random, element, {
      atol: 1e-5 + 1e-6 * s.K,
      rtol: 1e-5,
    });
    if (!check.passed) return { name, flops, check };
    const once = await timedReps(run, 1);
    const reps = Math.max(1, Math.min(budget.maxReps, Math.ceil(budget.targetMs / Math.max(once, 0.01))));
    const ms = (await timedReps(run, reps)) / reps;
    return { name, flops, check, ms, reps, gflops: gflops(flops, ms) };
  } finally {
    aT.dispose();
    bT.dispose();
  }
}
