/**
 * Launchers for column scaling, the op of IA3 (Liu et al. 2022, "(IA)³"): y[n, c] = x[n, c]·l[c] over
 * every row of x (scale-columns.wgsl), and its backward dx = dy ⊙ l (the same kernel on dy) and
 * dl[c] = Σ_n dy[n, c]·x[n, c] (scale-columns-grad.wgsl, a deterministic column reduction).
 *
 * Shapes: x, y, dy, dx [..., C], N rows in all; l and dl hold C elements in any shape (PEFT's ia3_l is
 * [C, 1] or [1, C]). y may not alias x; to scale a tensor where it is, use `inPlace`.
 * Cost: forward N·C multiplies, fewest bytes 4·(2·N·C + C) (3·N·C in place or accumulating);
 * backward 3·N·C FLOPs, fewest bytes 4·(3·N·C + 2·C), plus N·C when adding into dx.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import scaleColumnsWgsl from './scale-columns.wgsl?raw';
import scaleColumnsGradWgsl from './scale-columns-grad.wgsl?raw';

const scaleColumnsKernel: KernelDefinition = {
  name: 'scale-columns',
  wgsl: scaleColumnsWgsl,
  bindings: ['uniform', 'read', 'read', 'write'],
};

const scaleColumnsGradKernel: KernelDefinition = {
  name: 'scale-columns-grad',
  wgsl: scaleColumnsGradWgsl,
  bindings: ['uniform', 'read', 'read', 'write'],
};

const workgroupSize = 256;
const columnsPerGroup = 16;

export type ScaleColumnsArgs =
  | { x: Tensor; scale: Tensor; out: Tensor; accumulate?: boolean; inPlace?: false; label?: string }
  | { scale: Tensor; out: Tensor; inPlace: true; label?: string };

function columnsOf(t: Tensor): number {
  return t.shape.at(-1) ?? 1;
}

function checkScale(op: string, scale: Tensor, matrix: Tensor): number {
  const cols = columnsOf(matrix);
  if (scale.size !== cols) {
    throw new Error(
      `${op}: ${describeShape(scale)} must hold one value per column of ${describeShape(matrix)} (${cols}).`,
    );
  }
  return cols;
}

/** out = x ⊙ l per row (or out += x ⊙ l, or out ⊙= l in place). */
export async function scaleColumns(runtime: Runtime, args: ScaleColumnsArgs): Promise<Dispatch> {
  const { scale, out } = args;
  const x = args.inPlace ? undefined : args.x;
  const cols = checkScale('scaleColumns', scale, out);
  if (x && x.size !== out.size) {
    throw new Error(`scaleColumns: ${describeShape(x)} and ${describeShape(out)} differ in size.`);
  }
  if (x && columnsOf(x) !== cols) {
    throw new Error(`scaleColumns: ${describeShape(x)} and ${describeShape(out)} differ in columns.`);
  }
  if (x?.buffer === out.buffer) {
    throw new Error(
      `scaleColumns: out ${out.label} shares its buffer with x; use { inPlace: true } to scale it in place.`,
    );
  }
  const vecCount = Math.ceil(out.size / 4);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([out.size, vecCount, cols, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: scaleColumnsKernel,
    constants: { ACCUMULATE: Boolean(!args.inPlace && args.accumulate), IN_PLACE: Boolean(args.inPlace) },
    buffers: [uniform, x?.buffer ?? runtime.placeholder.storage, scale.buffer, out.buffer],
    workgroups: grid1d(runtime, Math.max(vecCount, 1), workgroupSize),
    label: args.label ?? `scale columns of ${(x ?? out).label} by ${scale.label}`,
    owned: [uniform],
  });
}

export interface ScaleColumnsGradArgs {
  x: Tensor;
  dy: Tensor;
  /** dl: one value per column. */
  dScale: Tensor;
  accumulate?: boolean;
  label?: string;
}

/** dl[c] = Σ_n dy[n, c]·x[n, c] (+ dl[c]). */
export async function scaleColumnsGrad(runtime: Runtime, args: ScaleColumnsGradArgs): Promise<Dispatch> {
  const { x, dy, dScale } = args;
  const cols = checkScale('scaleColumnsGrad', dScale, x);
  if (dy.size !== x.size || columnsOf(dy) !== cols) {
    throw new Error(`scaleColumnsGrad: ${describeShape(dy)} must have the shape of ${describeShape(x)}.`);
  }
  const rows = cols === 0 ? 0 : x.size / cols;
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, cols, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: scaleColumnsGradKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate) },
    buffers: [uniform, x.buffer, dy.buffer, dScale.buffer],
    workgroups: [Math.max(1, Math.ceil(cols / columnsPerGroup)), 1, 1],
    label: args.label ?? `grad of ${dScale.label}`,
    owned: [uniform],
  });
}

export interface ScaleColumnsBackwardArgs {
  /** The forward's input. */
  x: Tensor;
  scale: Tensor;
  dy: Tensor;
  /** Omitted when nothing upstream needs it. */
  dx?: Tensor;
  dScale: Tensor;
  /** Add into dx (several ops read the same input). */
  accumulateDx?: boolean;
  /** Add into dl (gradient accumulation). */
  accumulateScale?: boolean;
  label?: string;
}

/** Backward of y = x ⊙ l: dx = dy ⊙ l and dl = Σ_rows dy ⊙ x. */
export async function scaleColumnsBackward(
  runtime: Runtime,
  args: ScaleColumnsBackwardArgs,
): Promise<Dispatch[]> {
  const label = args.label ?? `scale columns by ${args.scale.label}`;
  const work = [
    scaleColumnsGrad(runtime, {
      x: args.x,
      dy: args.dy,
      dScale: args.dScale,
      accumulate: args.accumulateScale,
      label: `${label}.dScale`,
    }),
  ];
  if (args.dx) {
    work.push(
      scaleColumns(runtime, {
        x: args.dy,
        scale: args.scale,
        out: args.dx,
        accumulate: args.accumulateDx,
        label: `${label}.dx`,
      }),
    );
  }
  return Promise.all(work);
}
