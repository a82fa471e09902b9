/**
 * Scaled dot-product attention with grouped-query heads (GQA, Ainslie et al. 2023), forward and backward,
 * FlashAttention style (Dao et al. 2022, "FlashAttention"; Dao 2023, "FlashAttention-2"): tiled, with an
 * online softmax, so no T x S score matrix is ever stored; the backward recomputes P from Q, K and lse.
 *
 * Shapes (B batch, T queries, S keys (S = T in training), NH query heads, KVH key/value heads with
 * NH % KVH = 0, D head dim ≤ 256):
 *   q, out, dOut, dq [B, T, NH, D]   k, v, dk, dv [B, S, KVH, D]   lse [B, NH, T]   keyMask [B, S]
 *   rowStats [B, NH, T, 2]: backward scratch, (lse·log2 e, Δ = rowsum(dOut ∘ out)) per query row.
 * Heads are contiguous per token, as the q/k/v projections write them. Masks: causal (key s visible to
 * query t when s ≤ t + S − T, aligned at the end as a KV cache needs), a key padding mask (u32, i32 or f32,
 * nonzero = visible), or both; with causal, optionally a sliding window of W keys (a query sees its own key
 * and the W − 1 before it), whose kernels skip the tiles outside it, so a step costs O(T·W), not O(T²).
 * A query that sees no key gets out = 0, lse = 0 and zero gradients.
 *
 * Forward, 1 dispatch: out, lse (one thread per query row, walking tiles of keys with its own online
 * softmax). Backward, 3 dispatches: rowStats, then dQ (one thread per query row, walking tiles of keys)
 * and dK/dV (one thread per key row, walking the query heads of its group and tiles of their queries);
 * every sum runs in one thread in a fixed order, so gradients are deterministic.
 * Attention-probability dropout (options.dropout, as HF's attention_probs_dropout_prob in training): the
 * normalised P is multiplied by a counter-based mask, 0 or 1/(1 − p), hashed from (rng seed and step,
 * stream, [B, NH, T, S] index) with dropout-hash.wgsl's hash (attention.ref.ts mirrors it); both backward
 * kernels recompute it, so nothing is stored. Without it (or at p = 0) the kernels compile with
 * DROPOUT = false and run exactly as without the option.
 * Cost (without causal skipping, which roughly halves it): forward 4·B·NH·T·S·D FLOPs, fewest bytes
 * 4·(2·|q| + 2·|k| + |lse|); backward 14·B·NH·T·S·D FLOPs (S and dP are recomputed in both gradient
 * kernels; 10 is the floor), fewest bytes 4·(4·|q| + 4·|k| + |lse|). Dropout adds no bytes, only the
 * hash (~15 integer ops) per score in each of the three tiled kernels.
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition, OverrideConstants } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import { dropoutScale, dropoutThreshold } from '../dropout/dropout.ref';
import type { RngState } from '../dropout/rng-state';
import { tiledAttentionKernels } from './attention-kernels';
import rowStatsWgsl from './attention-row-stats.wgsl?raw';

/** Rows per workgroup of the three tiled kernels, one thread each (attention-common.wgsl's ROWS). */
const tiledRows = 32;
/** Rows per workgroup of the row-stats kernel (16 lanes each). */
const rowStatsRows = 16;
export const attentionMaxHeadDim = 256;

const attentionRowStatsKernel: KernelDefinition = {
  name: 'attention-row-stats',
  wgsl: rowStatsWgsl,
  // params, dOut, out, lse, rowStats
  bindings: ['uniform', 'read', 'read', 'read', 'write'],
};

export interface AttentionOptions {
  causal: boolean;
  /** [B, S] key validity (u32, i32 or f32); nonzero = the key is visible. */
  keyMask?: Tensor;
  /**
   * Causal only: query t sees key s only when t + (S − T) − s < window (Mistral's and Gemma's sliding
   * windows). Absent, every earlier key is visible.
   */
  window?: number;
  /** Multiplies q·k; defaults to 1/√D. */
  scale?: number;
  /** Gemma 2's attn_logit_softcapping: scaled scores become cap·tanh(score / cap) before the mask. */
  softcap?: number;
  /**
   * Drop attention probabilities with probability p (training only); the backward must get the same
   * rng (seed and step unchanged), stream and p as the forward. Off when absent or p = 0.
   */
  dropout?: AttentionDropout;
  label?: string;
}

export interface AttentionDropout {
  p: number;
  rng: RngState;
  /** Distinguishes this dropout site from the step's others (dropout.ts's streams). */
  stream: number;
}

export interface AttentionForwardIo {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
  lse: Tensor;
}

export interface AttentionBackwardIo extends AttentionForwardIo {
  dOut: Tensor;
  /** Scratch [B, NH, T, 2]. */
  rowStats: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
}

export interface AttentionShape {
  B: number;
  T: number;
  S: number;
  NH: number;
  KVH: number;
  D: number;
}

const shapeOf = (t: Tensor) => `${t.label}[${t.shape.join(', ')}]`;

function fail(options: AttentionOptions, detail: string, tensors: Tensor[]): never {
  throw new Error(`attention ${options.label ?? ''}: ${detail} (${tensors.map(shapeOf).join(', ')}).`);
}

function expectShape(options: AttentionOptions, t: Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail(options, `${what} must be [${shape.join(', ')}]`, [t]);
  }
}

/** Reads B, T, S, NH, KVH, D from q [B, T, NH, D] and k [B, S, KVH, D], and checks the rest. */
function resolveShape(io: AttentionForwardIo, options: AttentionOptions): AttentionShape {
  const { q, k, v } = io;
  if (q.shape.length !== 4 || k.shape.length !== 4) {
    fail(options, 'q must be [B, T, NH, D] and k [B, S, KVH, D]', [q, k]);
  }
  const [B, T, NH, D] = q.shape as [number, number, number, number];
  const [Bk, S, KVH, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D) fail(options, 'q and k differ in batch or head dim', [q, k]);
  if (KVH === 0 || NH % KVH !== 0) fail(options, `NH = ${NH} is not a multiple of KVH = ${KVH}`, [q, k]);
  if (D < 1 || D > attentionMaxHeadDim) {
    fail(options, `head dim D = ${D} is unsupported; the kernels take 1 ≤ D ≤ ${attentionMaxHeadDim}`, [q]);
  }
  if (T < 1 || S < 1) fail(options, 'T and S must be at least 1', [q, k]);
  for (const t of [q, k, v]) if (t.dtype !== 'f32') fail(options, 'q, k and v must be f32', [t]);
  expectShape(options, v, [B, S, KVH, D], 'v');
  expectShape(options, io.out, [B, T, NH, D], 'out');
  expectShape(options, io.lse, [B, NH, T], 'lse');
  if (options.keyMask) expectShape(options, options.keyMask, [B, S], 'keyMask');
  const p = options.dropout?.p ?? 0;
  if (!(p >= 0 && p < 1)) fail(options, `dropout probability must be in [0, 1), got ${p}`, [q]);
  const softcap = options.softcap;
  if (softcap !== undefined && !(softcap > 0 && Number.isFinite(softcap)))
    fail(options, `a soft-cap must be a positive number, got ${softcap}`, [q]);
  const window = options.window;
  if (window !== undefined && !(Number.isInteger(window) && window >= 1 && options.causal))
    fail(options, `a sliding window must be a whole number of keys ≥ 1 on causal attention, got ${window}`, [
      q,
    ]);
  return { B, T, S, NH, KVH, D };
}

function tiledConstants(shape: AttentionShape, options: AttentionOptions): OverrideConstants {
  const mask = options.keyMask;
  return {
    HEAD_DIM: shape.D,
    CAUSAL: options.causal,
    KEY_MASK: mask ? (mask.dtype === 'f32' ? 2 : 1) : 0,
    DROPOUT: dropoutOn(options),
    WINDOW: options.window !== undefined,
    SOFTCAP: options.softcap !== undefined,
  };
}

const dropoutOn = (options: AttentionOptions) => (options.dropout?.p ?? 0) > 0;

/** The rng uniform the kernels read; a placeholder when dropout is off (the kernels never read it then). */
const rngBuffer = (runtime: Runtime, options: AttentionOptions) =>
  dropoutOn(options) && options.dropout ? options.dropout.rng.buffer : runtime.placeholder.uniform;

function tiledUniform(runtime: Runtime, shape: AttentionShape, options: AttentionOptions): GPUBuffer {
  const scale = options.scale ?? 1 / Math.sqrt(shape.D);
  const data = new ArrayBuffer(64);
  new Uint32Array(data, 0, 5).set([shape.T, shape.S, shape.NH, shape.KVH, shape.NH / shape.KVH]);
  new Int32Array(data, 20, 1)[0] = shape.S - shape.T;
  const drop = options.dropout;
  if (drop && dropoutOn(options)) {
    new Uint32Array(data, 24, 2).set([drop.stream >>> 0, dropoutThreshold(drop.p)]);
    new Float32Array(data, 40, 1)[0] = dropoutScale(drop.p);
  }
  const softcap = options.softcap;
  new Float32Array(data, 32, 2).set([scale, softcap === undefined ? scale * Math.LOG2E : scale]);
  new Uint32Array(data, 44, 1)[0] = options.window ?? 0;
  new Float32Array(data, 48, 1)[0] = softcap ?? 0;
  return createUniform(runtime, 'uniforms', data);
}

export async function attentionForward(
  runtime: Runtime,
  io: AttentionForwardIo,
  options: AttentionOptions,
): Promise<Dispatch> {
  const shape = resolveShape(io, options);
  const uniform = tiledUniform(runtime, shape, options);
  return makeDispatch(runtime, {
    kernel: tiledAttentionKernels(shape.D).forward,
    constants: tiledConstants(shape, options),
    buffers: [
      uniform,
      options.keyMask?.buffer ?? runtime.placeholder.storage,
      io.q.buffer,
      io.k.buffer,
      io.v.buffer,
      io.out.buffer,
      io.lse.buffer,
      rngBuffer(runtime, options),
    ],
    workgroups: [ceilDiv(shape.T, tiledRows), shape.NH, shape.B],
    label: options.label ?? `attention forward ${io.q.label}`,
    owned: [uniform],
  });
}

export async function attentionBackward(
  runtime: Runtime,
  io: AttentionBackwardIo,
  options: AttentionOptions,
): Promise<Dispatch[]> {
  const shape = resolveShape(io, options);
  const { B, T, NH, D } = shape;
  expectShape(options, io.dOut, [B, T, NH, D], 'dOut');
  expectShape(options, io.dq, [B, T, NH, D], 'dq');
  expectShape(options, io.dk, io.k.shape as number[], 'dk');
  expectShape(options, io.dv, io.k.shape as number[], 'dv');
  expectShape(options, io.rowStats, [B, NH, T, 2], 'rowStats');
  const label = options.label ?? `attention backward ${io.q.label}`;
  const mask = options.keyMask?.buffer ?? runtime.placeholder.storage;
  const constants = tiledConstants(shape, options);

  const rows = B * T * NH;
  const statsUniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, T, NH, D]).buffer);
  const dqUniform = tiledUniform(runtime, shape, options);
  const dkdvUniform = tiledUniform(runtime, shape, options);
  // In this order, in one pass: rowStats is written before both gradient kernels read it.
  return Promise.all([
    makeDispatch(runtime, {
      kernel: attentionRowStatsKernel,
      buffers: [statsUniform, io.dOut.buffer, io.out.buffer, io.lse.buffer, io.rowStats.buffer],
      workgroups: grid1d(runtime, rows, rowStatsRows),
      label: `${label}: row stats`,
      owned: [statsUniform],
    }),
    makeDispatch(runtime, {
      kernel: tiledAttentionKernels(D).dq,
      constants,
      buffers: [
        dqUniform,
        mask,
        io.q.buffer,
        io.k.buffer,
        io.v.buffer,
        io.dOut.buffer,
        io.rowStats.buffer,
        io.dq.buffer,
        rngBuffer(runtime, options),
      ],
      workgroups: [ceilDiv(T, tiledRows), NH, B],
      label: `${label}: dq`,
      owned: [dqUniform],
    }),
    makeDispatch(runtime, {
      kernel: tiledAttentionKernels(D).dkdv,
      constants,
      buffers: [
        dkdvUniform,
        mask,
        io.q.buffer,
        io.k.buffer,
        io.v.buffer,
        io.dOut.buffer,
        io.rowStats.buffer,
        io.dk.buffer,
        io.dv.buffer,
        rngBuffer(runtime, options),
      ],
      workgroups: [ceilDiv(shape.S, tiledRows), shape.KVH, B],
      label: `${label}: dk, dv`,
      owned: [dkdvUniform],
    }),
  ]);
}
