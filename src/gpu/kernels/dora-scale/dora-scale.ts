/**
 * Launchers for DoRA's per-output-column scaling (Liu et al. 2024, "DoRA"; PEFT tuners/lora/dora.py),
 * the step after the LoRA matmuls: with g = m / n per output column (m the trained magnitude, n the
 * detached norm ‖W + s·B·A‖ of dora-norm),
 *   forward   y = [y] + [b] + (g − [1])·v                                      (dora-scale.wgsl)
 *   backward  scaled = g ⊙ dy,  [scaledMinusOne = (g − 1) ⊙ dy],  dm = Σ_rows dy ⊙ v / n
 *                                                                    (dora-scale-backward.wgsl)
 *   masked    out += mask ⊙ t, the forward's dropout mask            (dora-dropout-add.wgsl)
 * Without dropout a DoRA layer is y = b + g ⊙ (x·Wᵀ + s·x·Aᵀ·Bᵀ); with dropout PEFT keeps the base output
 * of the undropped x and adds (g − 1) ⊙ (x̃·Wᵀ + s·x̃·Aᵀ·Bᵀ) to the LoRA output (see peft/dora.ts).
 *
 * Shapes: v, y, dy, scaled [ROWS, OUT] (any leading dimensions)   m, n, b, dm [OUT]   t, out [ROWS, IN]
 * Cost: forward 2 FLOPs and 12 bytes per element; backward 4 FLOPs and 16 bytes per element (20 with
 * scaledMinusOne); masked add 2 FLOPs and 12 bytes per element.
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import { dropoutHashWgsl } from '../dropout/dropout';
import { dropoutScale, dropoutThreshold } from '../dropout/dropout.ref';
import type { RngState } from '../dropout/rng-state';
import dropoutAddWgsl from './dora-dropout-add.wgsl?raw';
import doraScaleWgsl from './dora-scale.wgsl?raw';
import doraScaleBackwardWgsl from './dora-scale-backward.wgsl?raw';

const forwardKernel: KernelDefinition = {
  name: 'dora-scale',
  wgsl: doraScaleWgsl,
  bindings: ['uniform', 'read', 'read', 'read', 'read', 'write'],
};

const backwardKernel: KernelDefinition = {
  name: 'dora-scale-backward',
  wgsl: doraScaleBackwardWgsl,
  bindings: ['uniform', 'read', 'read', 'read', 'read', 'write', 'write', 'write'],
};

const dropoutAddKernel: KernelDefinition = {
  name: 'dora-dropout-add',
  wgsl: `${dropoutHashWgsl}\n${dropoutAddWgsl}`,
  bindings: ['uniform', 'uniform', 'read', 'write'],
};

function columnsOf(what: string, label: string, t: Tensor, vectors: Tensor[]): number {
  const cols = t.shape.at(-1) ?? 1;
  for (const vector of vectors) {
    if (vector.size !== cols) {
      throw new Error(
        `${what} ${label}: ${vector.label} has ${vector.size} elements; ${t.label} [${t.shape.join(', ')}] has ${cols} columns.`,
      );
    }
  }
  return cols;
}

function sameSize(what: string, label: string, ...tensors: Tensor[]): void {
  const [first, ...rest] = tensors as [Tensor, ...Tensor[]];
  for (const t of rest) {
    if (t.size !== first.size) {
      throw new Error(
        `${what} ${label}: ${t.label} [${t.shape.join(', ')}] and ${first.label} [${first.shape.join(', ')}] differ in size.`,
      );
    }
  }
}

export interface DoraScaleArgs {
  v: Tensor;
  magnitude: Tensor;
  norm: Tensor;
  y: Tensor;
  bias?: Tensor;
  /** Add into y rather than overwrite it. */
  accumulate?: boolean;
  /** Scale by g − 1 instead of g (the dropout form, added onto the LoRA output). */
  subtractOne?: boolean;
  label?: string;
}

export async function doraScaleForward(runtime: Runtime, args: DoraScaleArgs): Promise<Dispatch> {
  const label = args.label ?? `dora scale ${args.v.label}`;
  sameSize('doraScaleForward', label, args.v, args.y);
  const cols = columnsOf('doraScaleForward', label, args.v, [
    args.magnitude,
    args.norm,
    ...(args.bias ? [args.bias] : []),
  ]);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([args.v.size, cols, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: forwardKernel,
    constants: {
      HAS_BIAS: Boolean(args.bias),
      ACCUMULATE: Boolean(args.accumulate),
      SUBTRACT_ONE: Boolean(args.subtractOne),
    },
    buffers: [
      uniform,
      args.v.buffer,
      args.magnitude.buffer,
      args.norm.buffer,
      args.bias?.buffer ?? runtime.placeholder.storage,
      args.y.buffer,
    ],
    workgroups: grid1d(runtime, args.v.size, 256),
    label,
    owned: [uniform],
  });
}

export interface DoraScaleBackwardArgs {
  dy: Tensor;
  /** The forward's v, saved. */
  v: Tensor;
  magnitude: Tensor;
  norm: Tensor;
  /** g ⊙ dy. */
  scaled: Tensor;
  /** (g − 1) ⊙ dy, when given. */
  scaledMinusOne?: Tensor;
  dm: Tensor;
  /** Add into dm (gradient accumulation) instead of overwriting it. */
  accumulate?: boolean;
  label?: string;
}

export async function doraScaleBackward(runtime: Runtime, args: DoraScaleBackwardArgs): Promise<Dispatch> {
  const label = args.label ?? `dora scale backward ${args.dy.label}`;
  sameSize(
    'doraScaleBackward',
    label,
    args.dy,
    args.v,
    args.scaled,
    ...(args.scaledMinusOne ? [args.scaledMinusOne] : []),
  );
  const cols = columnsOf('doraScaleBackward', label, args.dy, [args.magnitude, args.norm, args.dm]);
  const rows = cols === 0 ? 0 : args.dy.size / cols;
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, cols, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: backwardKernel,
    constants: { WRITE_MINUS_ONE: Boolean(args.scaledMinusOne), ACCUMULATE: Boolean(args.accumulate) },
    buffers: [
      uniform,
      args.dy.buffer,
      args.v.buffer,
      args.magnitude.buffer,
      args.norm.buffer,
      args.scaled.buffer,
      args.scaledMinusOne?.buffer ?? runtime.placeholder.storage,
      args.dm.buffer,
    ],
    workgroups: [ceilDiv(cols, 16), 1, 1],
    label,
    owned: [uniform],
  });
}

export interface DropoutAddArgs {
  t: Tensor;
  out: Tensor;
  p: number;
  rng: RngState;
  /** The dropout site whose mask to apply (the layer's LoRA stream). */
  stream: number;
  label?: string;
}

/** out += mask ⊙ t, with the inverted-dropout mask (0 or 1/(1 − p)) of (rng, stream). */
export async function dropoutAdd(runtime: Runtime, args: DropoutAddArgs): Promise<Dispatch> {
  const label = args.label ?? `dropout add ${args.t.label} into ${args.out.label}`;
  sameSize('dropoutAdd', label, args.t, args.out);
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 3).set([args.t.size, args.stream >>> 0, dropoutThreshold(args.p)]);
  new Float32Array(params, 12, 1)[0] = dropoutScale(args.p);
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: dropoutAddKernel,
    buffers: [uniform, args.rng.buffer, args.t.buffer, args.out.buffer],
    workgroups: grid1d(runtime, args.t.size, 256),
    label,
    owned: [uniform],
  });
}
