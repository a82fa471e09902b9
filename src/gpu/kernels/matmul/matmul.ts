/**
 * Launcher for the tiled matmul (matmul.wgsl): C = alpha·op(A)·op(B) (+ bias) (+ low-rank term) (+ C).
 *
 * Shapes (dimension letters: M rows of C, N columns, K the contracted dimension, R the LoRA rank):
 *   a: [..., M, K], or [..., K, M] with transA      b: [..., K, N], or [..., N, K] with transB
 *   out: [..., M, N]     bias: [N]     lowRank.u: [..., M, R]     lowRank.v: [N, R] ('nr') or [R, N] ('rn')
 * Leading dimensions are the batch; a 2-D operand is broadcast over it.
 * B may be an 'f16' tensor (a frozen weight kept in half precision) or a 2-D 'nf4' one (a frozen weight
 * quantized as QLoRA does): the kernel then reads it through matmul-b-f16.wgsl or matmul-b-nf4.wgsl and
 * still multiplies and sums in f32.
 * Cost: FLOPs 2·batch·M·N·(K + R); fewest bytes 4·(|A| + |C|) + 4 (2 for f16, 0.5625 for nf4)·|B|,
 * twice |C| when accumulating.
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import { dropoutHashWgsl } from '../dropout/dropout';
import { dropoutScale, dropoutThreshold } from '../dropout/dropout.ref';
import type { RngState } from '../dropout/rng-state';
import matmulWgsl from './matmul.wgsl?raw';
import halfBWgsl from './matmul-b-f16.wgsl?raw';
import floatBWgsl from './matmul-b-f32.wgsl?raw';
import nf4BWgsl from './matmul-b-nf4.wgsl?raw';
import nf4LevelsWgsl from './nf4-levels.wgsl?raw';

export const matmulKernel: KernelDefinition = {
  name: 'matmul',
  wgsl: `${dropoutHashWgsl}\n${matmulWgsl}\n${floatBWgsl}`,
  bindings: ['uniform', 'read', 'read', 'write', 'read', 'read', 'read', 'uniform'],
};

/** The same kernel with B in half precision. */
const matmulHalfBKernel: KernelDefinition = {
  name: 'matmul-half-b',
  wgsl: `${dropoutHashWgsl}\n${matmulWgsl}\n${halfBWgsl}`,
  bindings: ['uniform', 'read', 'read-half', 'write', 'read', 'read', 'read', 'uniform'],
};

/** The same kernel with B in 4-bit NormalFloat blocks. */
const matmulNf4BKernel: KernelDefinition = {
  name: 'matmul-nf4-b',
  wgsl: `${dropoutHashWgsl}\n${nf4LevelsWgsl}\n${matmulWgsl}\n${nf4BWgsl}`,
  bindings: ['uniform', 'read', 'read-nf4', 'write', 'read', 'read', 'read', 'uniform'],
};

const kernelForB = { f16: matmulHalfBKernel, nf4: matmulNf4BKernel } as const;

/** Columns of C per workgroup (matmul.wgsl's TILE_N); the rows (TILE_M) follow M, below. */
export const tileColumns = 64;
/** K per slice through workgroup memory (matmul.wgsl's TILE_K): a split-K range is a whole number of them. */
export const tileDepth = 16;

/**
 * Rows of C per workgroup: 64, or 32 where that pads M less (M = 32 tokens, or 96): a 64-row tile over
 * a short M leaves half its threads idle and launches fewer workgroups. Ties keep 64, which reuses each
 * loaded B tile for more rows.
 */
export function matmulTileRows(M: number): 32 | 64 {
  return ceilDiv(M, 32) * 32 < ceilDiv(M, 64) * 64 ? 32 : 64;
}

export interface DropoutSite {
  p: number;
  rng: RngState;
  stream: number;
}

export interface LowRankTerm {
  u: Tensor;
  v: Tensor;
  vLayout: 'nr' | 'rn';
  scale: number;
  /** Multiply the term by the dropout mask of each output element (LoRA's dX). */
  dropout?: DropoutSite;
}

export interface MatmulArgs {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  bias?: Tensor;
  accumulate?: boolean;
  /** Drop elements of one operand as they load. */
  dropout?: DropoutSite & { operand: 'a' | 'b' };
  lowRank?: LowRankTerm;
  /**
   * Walk K in `splits` ranges of `chunk` (a multiple of tileDepth), one per grid z, writing the partial products
   * into out [splits, M, N]; matmulSplitK (split-k.ts) plans this and sums the partials. 2-D A and B only,
   * without bias, low-rank term or accumulation.
   */
  splitK?: { splits: number; chunk: number };
  label?: string;
}

interface MatrixView {
  batch: number;
  rows: number;
  cols: number;
  stride: number;
}

function asMatrix(t: Tensor, what: string): MatrixView {
  if (t.shape.length < 2) throw new Error(`matmul: ${what} ${t.label} must have at least 2 dimensions.`);
  const rows = t.shape[t.shape.length - 2] as number;
  const cols = t.shape[t.shape.length - 1] as number;
  const batch = t.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  return { batch, rows, cols, stride: t.shape.length === 2 ? 0 : rows * cols };
}

function shapeError(args: MatmulArgs, detail: string): Error {
  const shape = (t: Tensor) => `${t.label}[${t.shape.join(', ')}]`;
  return new Error(
    `matmul ${args.label ?? ''}: ${detail} (a ${shape(args.a)}${args.transA ? 'ᵀ' : ''}, ` +
      `b ${shape(args.b)}${args.transB ? 'ᵀ' : ''}, out ${shape(args.out)}).`,
  );
}

export async function matmul(runtime: Runtime, args: MatmulArgs): Promise<Dispatch> {
  const a = asMatrix(args.a, 'A');
  const b = asMatrix(args.b, 'B');
  const c = asMatrix(args.out, 'out');
  const [M, K] = args.transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const [Kb, N] = args.transB ? [b.cols, b.rows] : [b.rows, b.cols];
  if (K !== Kb) throw shapeError(args, `inner dimensions differ, ${K} and ${Kb}`);
  if (c.rows !== M || c.cols !== N) throw shapeError(args, `out must be [${M}, ${N}]`);
  const split = args.splitK;
  if (split) {
    if (a.stride !== 0 || b.stride !== 0 || args.bias || args.lowRank || args.accumulate)
      throw shapeError(args, 'split K takes 2-D A and B, without bias, low-rank term or accumulation');
    if (c.batch !== split.splits || split.chunk % tileDepth !== 0)
      throw shapeError(
        args,
        `split K writes ${split.splits} partials in chunks of a multiple of ${tileDepth}`,
      );
  }
  const batch = c.batch;
  for (const [view, name] of [
    [a, 'A'],
    [b, 'B'],
  ] as const) {
    if (view.stride !== 0 && view.batch !== batch)
      throw shapeError(args, `${name} batch ${view.batch} ≠ ${batch}`);
  }
  if (args.b.dtype === 'nf4' && b.stride !== 0) throw shapeError(args, 'an NF4 B must be 2-D');
  if (args.bias && args.bias.size !== N) throw shapeError(args, `bias must have ${N} elements`);

  const low = args.lowRank;
  let R = 0;
  let strideU = 0;
  let strideV = 0;
  if (low) {
    const u = asMatrix(low.u, 'U');
    const v = asMatrix(low.v, 'V');
    R = u.cols;
    const [vn, vr] = low.vLayout === 'nr' ? [v.rows, v.cols] : [v.cols, v.rows];
    if (u.rows !== M || vn !== N || vr !== R)
      throw shapeError(args, `low-rank U [${M}, R] and V of N=${N}, R=${R}`);
    strideU = u.stride;
    strideV = v.stride;
  }
  const drop = args.dropout ?? low?.dropout;
  if (args.dropout && low?.dropout) throw shapeError(args, 'only one dropout site per matmul');

  const params = new ArrayBuffer(64);
  const u32 = new Uint32Array(params);
  const f32 = new Float32Array(params);
  u32.set([M, N, K, R, a.stride, b.stride, M * N, strideU, strideV, drop?.stream ?? 0, 0, split?.chunk ?? 0]);
  u32[10] = drop ? dropoutThreshold(drop.p) : 0;
  f32[12] = args.alpha ?? 1;
  f32[13] = drop ? dropoutScale(drop.p) : 1;
  f32[14] = low?.scale ?? 0;
  const uniform = createUniform(runtime, 'uniforms', params);

  const tileM = matmulTileRows(M);
  const contiguousA = args.transA ? M : K;
  const contiguousB = args.transB ? K : N;
  const { storage, uniform: noUniform } = runtime.placeholder;
  return makeDispatch(runtime, {
    kernel: args.b.dtype === 'f16' || args.b.dtype === 'nf4' ? kernelForB[args.b.dtype] : matmulKernel,
    constants: {
      TILE_M: tileM,
      TRANS_A: Boolean(args.transA),
      TRANS_B: Boolean(args.transB),
      VEC_A: contiguousA % 4 === 0 && a.stride % 4 === 0,
      VEC_B: contiguousB % 4 === 0 && b.stride % 4 === 0,
      HAS_BIAS: Boolean(args.bias),
      ACCUMULATE: Boolean(args.accumulate),
      DROPOUT_OPERAND: args.dropout ? (args.dropout.operand === 'a' ? 1 : 2) : 0,
      HAS_LOW_RANK: Boolean(low),
      V_STORED_RN: low?.vLayout === 'rn',
      LOW_RANK_DROPOUT: Boolean(low?.dropout),
      SPLIT_K: Boolean(split),
    },
    buffers: [
      uniform,
      args.a.buffer,
      args.b.buffer,
      args.out.buffer,
      args.bias?.buffer ?? storage,
      low?.u.buffer ?? storage,
      low?.v.buffer ?? storage,
      drop?.rng.buffer ?? noUniform,
    ],
    workgroups: [ceilDiv(N, tileColumns), ceilDiv(M, tileM), batch],
    label: args.label ?? `matmul ${args.a.label}·${args.b.label}`,
    owned: [uniform],
  });
}
