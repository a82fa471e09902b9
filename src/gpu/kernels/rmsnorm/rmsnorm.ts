/**
 * Launchers for RMSNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization") as Hugging Face
 * LlamaRMSNorm (also Qwen2, Mistral) computes it: y = x · rsqrt(mean(x²) + eps) · weight over the last
 * dimension, the statistic in f32; with weightOffset 1, Gemma3RMSNorm's · (1 + weight).
 *
 * Shapes (ROWS = the product of x's leading dimensions, C = its last):
 *   x, y, dy, dx [..., C]   weight, dweight [C]   rrms [ROWS] (any shape), saved by the forward pass.
 * Forward, 1 dispatch: one row per segment of LANES threads (row-segments.wgsl), several rows per
 * workgroup when C is small.
 * Backward, 2 dispatches (1 when the weight is frozen). dweight = Σ_rows dy·x·rrms is a column
 * reduction; rather than a thread walking every row of a column, it is split in two: the row pass, while
 * it writes dx, sums its stripe of rows into one private partial row per segment
 * (P ≤ maxWorkgroups·256/LANES rows), then sum-rows folds the [min(P, ROWS), C] partials with its row
 * lanes (and adds into dweight with `accumulate`). x and dy are read by one pass only; the partials cost
 * 8·min(P, ROWS)·C bytes, small beside x when ROWS ≫ P.
 * Without dweight (a frozen weight, as in every method but full fine-tuning) the backward is the row
 * pass alone: no partials are allocated or written and there is no fold.
 * Cost: forward 4·ROWS·C FLOPs, fewest bytes 4·(2·ROWS·C + ROWS + C);
 *       backward ~10·ROWS·C FLOPs, fewest bytes 4·(3·ROWS·C + ROWS + 2·C), plus 4·ROWS·C to read dx back
 *       with accumulateDx.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { Runtime } from '../../runtime';
import { createTensor, type Tensor } from '../../tensor';
import { sumRows } from '../sum-rows/sum-rows';
import rmsNormWgsl from './rmsnorm.wgsl?raw';
import rmsNormBackwardWgsl from './rmsnorm-backward.wgsl?raw';
import {
  checkEps,
  expectSizes,
  lanesFor,
  partialPlan,
  rowKernel,
  rowKernelFor,
  rowsOf,
  rowWorkgroupSize,
} from './row-segments';

const rmsNormKernel = rowKernel('rmsnorm', rmsNormWgsl, ['uniform', 'read', 'read', 'write', 'write']);

const rmsNormBackwardKernel = rowKernel('rmsnorm-backward', rmsNormBackwardWgsl, [
  'uniform',
  'read',
  'read',
  'read',
  'read',
  'write',
  'write',
]);

export interface RmsNormArgs {
  x: Tensor;
  weight: Tensor;
  y: Tensor;
  /** [ROWS]: 1 / √(mean(x²) + eps) per row, for the backward pass. */
  rrms: Tensor;
  /** HF's variance_epsilon / rms_norm_eps: 1e-5 or 1e-6 in Llama-family configs. */
  eps: number;
  /** Added to every weight as it is read: 1 for Gemma's (1 + weight), 0 (the default) otherwise. */
  weightOffset?: number;
  /** Lanes per row (a power of two, 32..256); chosen from C when absent. */
  lanes?: number;
  /** Subgroup sums where the device has them (default); false runs the workgroup-memory tree. */
  subgroups?: boolean;
  label?: string;
}

export interface RmsNormBackwardArgs {
  x: Tensor;
  weight: Tensor;
  rrms: Tensor;
  dy: Tensor;
  dx: Tensor;
  /**
   * The weight's gradient. Absent means the weight is frozen: the row pass writes only dx, with no
   * partial buffer and no sum-rows fold.
   */
  dweight?: Tensor;
  /** Add into dweight (gradient accumulation) instead of overwriting it. */
  accumulate?: boolean;
  /** As the forward's: 1 for Gemma's (1 + weight). */
  weightOffset?: number;
  /** Add into dx: the residual stream's gradient in a pre-norm block, without another pass. */
  accumulateDx?: boolean;
  lanes?: number;
  /** Caps the row pass's grid, and so the partial rows; tests lower it to give segments several rows. */
  maxWorkgroups?: number;
  /** Subgroup sums where the device has them (default); false runs the workgroup-memory tree. */
  subgroups?: boolean;
  label?: string;
}

export async function rmsNormForward(runtime: Runtime, args: RmsNormArgs): Promise<Dispatch> {
  const op = `rmsNormForward ${args.label ?? ''}`.trim();
  const { rows, cols } = rowsOf(op, args.x);
  expectSizes(op, args.x, [
    [args.x, rows * cols, 'x'],
    [args.weight, cols, 'weight, C'],
    [args.y, rows * cols, 'y, the shape'],
    [args.rrms, rows, 'rrms, one per row'],
  ]);
  checkEps(op, args.eps);
  const lanes = lanesFor(op, cols, args.lanes);
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 2).set([rows, cols]);
  new Float32Array(params, 8, 1)[0] = args.eps;
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: rowKernelFor(runtime, rmsNormKernel, args.subgroups),
    constants: { LANES: lanes, WEIGHT_OFFSET: args.weightOffset ?? 0 },
    buffers: [uniform, args.x.buffer, args.weight.buffer, args.y.buffer, args.rrms.buffer],
    workgroups: grid1d(runtime, rows, rowWorkgroupSize / lanes),
    label: args.label ?? `rmsnorm ${args.x.label}`,
    owned: [uniform],
  });
}

/** The row pass, then (when dweight is given) the sum-rows fold of its partials into dweight. */
export async function rmsNormBackward(runtime: Runtime, args: RmsNormBackwardArgs): Promise<Dispatch[]> {
  const op = `rmsNormBackward ${args.label ?? ''}`.trim();
  const { rows, cols } = rowsOf(op, args.x);
  const { dweight } = args;
  expectSizes(op, args.x, [
    [args.x, rows * cols, 'x'],
    [args.weight, cols, 'weight, C'],
    [args.rrms, rows, 'rrms, one per row'],
    [args.dy, rows * cols, 'dy, the shape'],
    [args.dx, rows * cols, 'dx, the shape'],
    ...(dweight ? [[dweight, cols, 'dweight, C'] as [Tensor, number, string]] : []),
  ]);
  const lanes = lanesFor(op, cols, args.lanes);
  const plan = partialPlan(rows, lanes, args.maxWorkgroups);
  const label = args.label ?? `rmsnorm backward ${args.x.label}`;
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, cols, plan.segments, 0]).buffer);
  const partial =
    dweight && createTensor(runtime.arena, `${label} dweight partials`, [plan.partialRows, cols]);
  const rowPass = await makeDispatch(runtime, {
    kernel: rowKernelFor(runtime, rmsNormBackwardKernel, args.subgroups),
    constants: {
      LANES: lanes,
      ACCUMULATE_DX: Boolean(args.accumulateDx),
      PARAM_GRADS: Boolean(partial),
      WEIGHT_OFFSET: args.weightOffset ?? 0,
    },
    buffers: [
      uniform,
      args.x.buffer,
      args.weight.buffer,
      args.rrms.buffer,
      args.dy.buffer,
      args.dx.buffer,
      partial?.buffer ?? runtime.placeholder.storage,
    ],
    workgroups: [plan.workgroups, 1, 1],
    label,
    owned: partial ? [uniform, partial.buffer] : [uniform],
  });
  if (!(dweight && partial)) return [rowPass];
  const fold = await sumRows(runtime, {
    x: partial,
    out: dweight,
    accumulate: args.accumulate,
    label: `${label} dweight`,
  });
  return [rowPass, fold];
}
