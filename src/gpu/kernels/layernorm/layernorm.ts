/**
 * Launchers for LayerNorm (Ba, Kiros & Hinton 2016, "Layer Normalization") as torch.nn.LayerNorm computes it
 * for HF GPT-2 and BERT: y = (x − mean) / √(var + eps) · gamma + beta over the last dimension, biased
 * variance, statistics in f32.
 *
 * Shapes (ROWS = the product of x's leading dimensions, C = its last):
 *   x, y, dy, dx [..., C]   gamma, beta, dgamma, dbeta [C]   mean, rstd [ROWS] (any shape), saved by forward.
 * Forward, 1 dispatch: one row per segment of LANES threads (rmsnorm/row-segments.wgsl), two-pass mean
 * and variance for stability when |mean| ≫ std.
 * Backward, 3 dispatches (1 when gamma and beta are frozen). dgamma and dbeta are column reductions
 * over ROWS; rather than a thread walking every row of a column, the row pass, while it writes dx, sums
 * its stripe of rows into one private partial row per segment (P ≤ maxWorkgroups·256/LANES), then
 * sum-rows folds each [min(P, ROWS), C] partial with its row lanes (adding into dgamma/dbeta with
 * `accumulate`). x and dy are read by one pass only; the partials cost 16·min(P, ROWS)·C bytes, small
 * beside x when ROWS ≫ P.
 * Without dgamma and dbeta (frozen parameters, as in every method but full fine-tuning) the backward is
 * the row pass alone: no partials are allocated or written and there are no folds.
 * Cost: forward ~8·ROWS·C FLOPs, fewest bytes 4·(2·ROWS·C + 2·ROWS + 2·C);
 *       backward ~14·ROWS·C FLOPs, fewest bytes 4·(3·ROWS·C + 2·ROWS + 3·C), plus 4·ROWS·C to read dx back
 *       with accumulateDx.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { Runtime } from '../../runtime';
import { createTensor, type Tensor } from '../../tensor';
import {
  checkEps,
  expectSizes,
  lanesFor,
  partialPlan,
  rowKernel,
  rowKernelFor,
  rowsOf,
  rowWorkgroupSize,
} from '../rmsnorm/row-segments';
import { sumRows } from '../sum-rows/sum-rows';
import layerNormWgsl from './layernorm.wgsl?raw';
import layerNormBackwardWgsl from './layernorm-backward.wgsl?raw';

const layerNormKernel = rowKernel('layernorm', layerNormWgsl, [
  'uniform',
  'read',
  'read',
  'read',
  'write',
  'write',
  'write',
]);

const layerNormBackwardKernel = rowKernel('layernorm-backward', layerNormBackwardWgsl, [
  'uniform',
  'read',
  'read',
  'read',
  'read',
  'read',
  'write',
  'write',
  'write',
]);

export interface LayerNormArgs {
  x: Tensor;
  gamma: Tensor;
  beta: Tensor;
  y: Tensor;
  /** [ROWS], saved for the backward pass. */
  mean: Tensor;
  /** [ROWS]: 1 / √(var + eps), saved for the backward pass. */
  rstd: Tensor;
  /** layer_norm_epsilon (GPT-2: 1e-5) or layer_norm_eps (BERT: 1e-12). */
  eps: number;
  /** Lanes per row (a power of two, 32..256); chosen from C when absent. */
  lanes?: number;
  /** Subgroup sums where the device has them (default); false runs the workgroup-memory tree. */
  subgroups?: boolean;
  label?: string;
}

export interface LayerNormBackwardArgs {
  x: Tensor;
  gamma: Tensor;
  mean: Tensor;
  rstd: Tensor;
  dy: Tensor;
  dx: Tensor;
  /**
   * The parameters' gradients, both or neither. Absent means gamma and beta are frozen: the row pass
   * writes only dx, with no partial buffers and no sum-rows folds.
   */
  dgamma?: Tensor;
  dbeta?: Tensor;
  /** Add into dgamma and dbeta (gradient accumulation) instead of overwriting them. */
  accumulate?: boolean;
  /** Add into dx: the residual stream's gradient in a pre-norm block, without another pass. */
  accumulateDx?: boolean;
  lanes?: number;
  /** Caps the row pass's grid, and so the partial rows; tests lower it to give segments several rows. */
  maxWorkgroups?: number;
  /** Subgroup sums where the device has them (default); false runs the workgroup-memory tree. */
  subgroups?: boolean;
  label?: string;
}

export async function layerNormForward(runtime: Runtime, args: LayerNormArgs): Promise<Dispatch> {
  const op = `layerNormForward ${args.label ?? ''}`.trim();
  const { rows, cols } = rowsOf(op, args.x);
  expectSizes(op, args.x, [
    [args.x, rows * cols, 'x'],
    [args.gamma, cols, 'gamma, C'],
    [args.beta, cols, 'beta, C'],
    [args.y, rows * cols, 'y, the shape'],
    [args.mean, rows, 'mean, one per row'],
    [args.rstd, rows, 'rstd, one per row'],
  ]);
  checkEps(op, args.eps);
  const lanes = lanesFor(op, cols, args.lanes);
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 2).set([rows, cols]);
  new Float32Array(params, 8, 1)[0] = args.eps;
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: rowKernelFor(runtime, layerNormKernel, args.subgroups),
    constants: { LANES: lanes },
    buffers: [
      uniform,
      args.x.buffer,
      args.gamma.buffer,
      args.beta.buffer,
      args.y.buffer,
      args.mean.buffer,
      args.rstd.buffer,
    ],
    workgroups: grid1d(runtime, rows, rowWorkgroupSize / lanes),
    label: args.label ?? `layernorm ${args.x.label}`,
    owned: [uniform],
  });
}

/** The row pass, then (when dgamma and dbeta are given) the sum-rows folds of its partials into them. */
export async function layerNormBackward(runtime: Runtime, args: LayerNormBackwardArgs): Promise<Dispatch[]> {
  const op = `layerNormBackward ${args.label ?? ''}`.trim();
  const { rows, cols } = rowsOf(op, args.x);
  const { dgamma, dbeta } = args;
  if (Boolean(dgamma) !== Boolean(dbeta))
    throw new Error(
      `${op}: got ${dgamma ? 'dgamma' : 'dbeta'} without ${dgamma ? 'dbeta' : 'dgamma'}; pass both ` +
        '(gamma and beta train) or neither (both frozen).',
    );
  expectSizes(op, args.x, [
    [args.x, rows * cols, 'x'],
    [args.gamma, cols, 'gamma, C'],
    [args.mean, rows, 'mean, one per row'],
    [args.rstd, rows, 'rstd, one per row'],
    [args.dy, rows * cols, 'dy, the shape'],
    [args.dx, rows * cols, 'dx, the shape'],
    ...(dgamma && dbeta
      ? [
          [dgamma, cols, 'dgamma, C'] as [Tensor, number, string],
          [dbeta, cols, 'dbeta, C'] as [Tensor, number, string],
        ]
      : []),
  ]);
  const lanes = lanesFor(op, cols, args.lanes);
  const plan = partialPlan(rows, lanes, args.maxWorkgroups);
  const label = args.label ?? `layernorm backward ${args.x.label}`;
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, cols, plan.segments, 0]).buffer);
  const partials =
    dgamma && dbeta
      ? {
          gamma: createTensor(runtime.arena, `${label} dgamma partials`, [plan.partialRows, cols]),
          beta: createTensor(runtime.arena, `${label} dbeta partials`, [plan.partialRows, cols]),
        }
      : undefined;
  const rowPass = await makeDispatch(runtime, {
    kernel: rowKernelFor(runtime, layerNormBackwardKernel, args.subgroups),
    constants: { LANES: lanes, ACCUMULATE_DX: Boolean(args.accumulateDx), PARAM_GRADS: Boolean(partials) },
    buffers: [
      uniform,
      args.x.buffer,
      args.gamma.buffer,
      args.mean.buffer,
      args.rstd.buffer,
      args.dy.buffer,
      args.dx.buffer,
      partials?.gamma.buffer ?? runtime.placeholder.storage,
      partials?.beta.buffer ?? runtime.placeholder.secondStorage,
    ],
    workgroups: [plan.workgroups, 1, 1],
    label,
    owned: partials ? [uniform, partials.gamma.buffer, partials.beta.buffer] : [uniform],
  });
  if (!(dgamma && dbeta && partials)) return [rowPass];
  const folds = await Promise.all([
    sumRows(runtime, {
      x: partials.gamma,
      out: dgamma,
      accumulate: args.accumulate,
      label: `${label} dgamma`,
    }),
    sumRows(runtime, {
      x: partials.beta,
      out: dbeta,
      accumulate: args.accumulate,
      label: `${label} dbeta`,
    }),
  ]);
  return [rowPass, ...folds];
}
