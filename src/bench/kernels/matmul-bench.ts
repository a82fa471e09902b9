/**
 * Whetstone's matmul kernel (src/gpu/kernels/matmul) on one shape (B in half precision or NF4 where the
 * shape says so): random inputs, NaN-poisoned output,
 * one run whose output is checked (spot-check.ts), then the timed runs. Returns GFLOP/s, or the failed
 * check and no time.
 */
import { releaseDispatches, submitDispatches } from '../../gpu/dispatch';
import { matmul } from '../../gpu/kernels/matmul/matmul';
import { matmulSplitK } from '../../gpu/kernels/matmul/split-k';
import type { Runtime } from '../../gpu/runtime';
import {
  downloadTensor,
  releaseTensor,
  type Tensor,
  uploadHalfTensor,
  uploadNf4Tensor,
  uploadTensor,
} from '../../gpu/tensor';
import { randomArray, seededRandom } from '../../gpu/testing/random';
import { roundToHalf, toHalfBits } from '../../numeric/half';
import { dequantizeNf4, quantizeNf4 } from '../../numeric/nf4';
import { type MatmulShape, matmulFlops } from './kernel-shapes';
import { type SpotCheck, spotCheck } from './spot-check';
import { gflops, timeDispatches } from './time-dispatches';

export interface KernelTiming {
  name: string;
  flops: number;
  check: SpotCheck;
  ms?: number;
  reps?: number;
  gflops?: number;
}

export interface TimingBudget {
  targetMs: number;
  maxReps: number;
  samples: number;
}

/** The float64 value of out[m, n] = Σ_k A[m,k]·B[k,n] (+ scale·Σ_r U[m,r]·V[n,r]). */
function matmulElement(s: MatmulShape, a: Float32Array, b: Float32Array, u: Float32Array, v: Float32Array) {
  return (index: number) => {
    const m = Math.floor(index / s.N);
    const n = index % s.N;
    let sum = 0;
    for (let k = 0; k < s.K; k++) {
      const bv = s.transB ? b[n * s.K + k] : b[k * s.N + n];
      const av = s.transA ? a[k * s.M + m] : a[m * s.K + k];
      sum += (av as number) * (bv as number);
    }
    for (let r = 0; r < s.R; r++) sum += (u[m * s.R + r] as number) * (v[n * s.R + r] as number);
    return sum;
  };
}

export async function benchMatmul(
  runtime: Runtime,
  s: MatmulShape,
  budget: TimingBudget,
): Promise<KernelTiming> {
  const random = seededRandom(s.M * 31 + s.N * 7 + s.K + s.R);
  const a = randomArray(random, s.M * s.K);
  // A half-precision or NF4 B holds (and the reference multiplies) the values as stored.
  const drawn = randomArray(random, s.K * s.N);
  const b = s.halfB ? roundToHalf(drawn) : s.nf4B ? dequantizeNf4(quantizeNf4(drawn), drawn.length) : drawn;
  const u = randomArray(random, s.M * s.R);
  const v = randomArray(random, s.N * s.R);
  const tensors: Tensor[] = [];
  const upload = (label: string, shape: number[], data: Float32Array) => {
    const t = uploadTensor(runtime.arena, label, shape, data);
    tensors.push(t);
    return t;
  };
  const aT = upload('A', s.transA ? [s.K, s.M] : [s.M, s.K], a);
  const bShape = s.transB ? [s.N, s.K] : [s.K, s.N];
  const bT = s.halfB
    ? uploadHalfTensor(runtime.arena, 'B', bShape, toHalfBits(b))
    : s.nf4B
      ? uploadNf4Tensor(runtime.arena, 'B', bShape, quantizeNf4(drawn))
      : upload('B', bShape, b);
  if (s.halfB || s.nf4B) tensors.push(bT);
  const out = upload('out', [s.M, s.N], new Float32Array(s.M * s.N).fill(Number.NaN));
  const lowRank =
    s.R > 0
      ? { u: upload('U', [s.M, s.R], u), v: upload('V', [s.N, s.R], v), vLayout: 'nr' as const, scale: 1 }
      : undefined;
  const args = { a: aT, b: bT, out, transA: s.transA, transB: s.transB, lowRank, label: s.name };
  const dispatches = s.splitK ? await matmulSplitK(runtime, args) : [await matmul(runtime, args)];
  try {
    submitDispatches(runtime, dispatches, `check ${s.name}`);
    const got = await downloadTensor(runtime.arena, out);
    const terms = s.K + s.R;
    // f32 sums of `terms` products of values in [-1, 1]: rounding grows at most ~terms·2⁻²⁴ per element.
    const check = spotCheck(s.name, got, budget.samples, random, matmulElement(s, a, b, u, v), {
      atol: 1e-5 + 1e-6 * terms,
      rtol: 1e-5,
    });
    const flops = matmulFlops(s);
    if (!check.passed) return { name: s.name, flops, check };
    const { msPerRep, reps } = await timeDispatches(runtime, dispatches, budget);
    return { name: s.name, flops, check, ms: msPerRep, reps, gflops: gflops(flops, msPerRep) };
  } finally {
    releaseDispatches(runtime, dispatches);
    for (const t of tensors) releaseTensor(runtime.arena, t);
  }
}
