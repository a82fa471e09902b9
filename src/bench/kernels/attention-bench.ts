/**
 * Whetstone's attention forward (src/gpu/kernels/attention, causal, grouped-query heads, optionally a
 * sliding window) on one shape:
 * random q, k, v, NaN-poisoned out and lse, one run checked element by element on sampled query rows
 * against a float64 softmax row, then the timed runs. FLOPs count visible pairs only (kernel-shapes.ts).
 */
import { releaseDispatches, submitDispatches } from '../../gpu/dispatch';
import { attentionForward } from '../../gpu/kernels/attention/attention';
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, releaseTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import { randomArray, seededRandom } from '../../gpu/testing/random';
import { type AttentionBenchShape, attentionFlops } from './kernel-shapes';
import type { KernelTiming, TimingBudget } from './matmul-bench';
import { spotCheck } from './spot-check';
import { gflops, timeDispatches } from './time-dispatches';

/** out[b, t, h, d] in float64: softmax over the causal keys s ≤ t (within the window) of q·k/√D, times v. */
function attentionElement(s: AttentionBenchShape, q: Float32Array, k: Float32Array, v: Float32Array) {
  const scale = 1 / Math.sqrt(s.D);
  const group = s.NH / s.KVH;
  return (index: number) => {
    const d = index % s.D;
    const h = Math.floor(index / s.D) % s.NH;
    const t = Math.floor(index / (s.D * s.NH)) % s.T;
    const b = Math.floor(index / (s.D * s.NH * s.T));
    const qBase = ((b * s.T + t) * s.NH + h) * s.D;
    const kvBase = (key: number) => ((b * s.T + key) * s.KVH + Math.floor(h / group)) * s.D;
    const first = s.window === undefined ? 0 : Math.max(0, t - s.window + 1);
    const scores = new Float64Array(t + 1 - first);
    for (let key = first; key <= t; key++) {
      let dot = 0;
      for (let e = 0; e < s.D; e++) dot += (q[qBase + e] as number) * (k[kvBase(key) + e] as number);
      scores[key - first] = dot * scale;
    }
    const max = Math.max(...scores);
    let sum = 0;
    let weighted = 0;
    for (let key = first; key <= t; key++) {
      const p = Math.exp((scores[key - first] as number) - max);
      sum += p;
      weighted += p * (v[kvBase(key) + d] as number);
    }
    return weighted / sum;
  };
}

export async function benchAttention(
  runtime: Runtime,
  s: AttentionBenchShape,
  budget: TimingBudget,
): Promise<KernelTiming> {
  const random = seededRandom(s.T * 13 + s.NH * 5 + s.D);
  const q = randomArray(random, s.B * s.T * s.NH * s.D);
  const k = randomArray(random, s.B * s.T * s.KVH * s.D);
  const v = randomArray(random, s.B * s.T * s.KVH * s.D);
  const tensors: Tensor[] = [];
  const upload = (label: string, shape: number[], data: Float32Array) => {
    const t = uploadTensor(runtime.arena, label, shape, data);
    tensors.push(t);
    return t;
  };
  const io = {
    q: upload('q', [s.B, s.T, s.NH, s.D], q),
    k: upload('k', [s.B, s.T, s.KVH, s.D], k),
    v: upload('v', [s.B, s.T, s.KVH, s.D], v),
    out: upload('out', [s.B, s.T, s.NH, s.D], new Float32Array(q.length).fill(Number.NaN)),
    lse: upload('lse', [s.B, s.NH, s.T], new Float32Array(s.B * s.NH * s.T).fill(Number.NaN)),
  };
  const dispatch = await attentionForward(runtime, io, { causal: true, window: s.window, label: s.name });
  try {
    submitDispatches(runtime, [dispatch], `check ${s.name}`);
    const got = await downloadTensor(runtime.arena, io.out);
    const lse = await downloadTensor(runtime.arena, io.lse);
    const flops = attentionFlops(s);
    const lseFinite = lse.every(Number.isFinite);
    const check = lseFinite
      ? spotCheck(s.name, got, budget.samples, random, attentionElement(s, q, k, v), {
          atol: 1e-4,
          rtol: 1e-4,
        })
      : {
          passed: false,
          sampled: 0,
          maxAbsDiff: Number.POSITIVE_INFINITY,
          failure: 'lse has a value never written',
        };
    if (!check.passed) return { name: s.name, flops, check };
    const { msPerRep, reps } = await timeDispatches(runtime, [dispatch], budget);
    return { name: s.name, flops, check, ms: msPerRep, reps, gflops: gflops(flops, msPerRep) };
  } finally {
    releaseDispatches(runtime, [dispatch]);
    for (const t of tensors) releaseTensor(runtime.arena, t);
  }
}
