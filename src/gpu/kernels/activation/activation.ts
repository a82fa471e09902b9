/**
 * Launchers for the element-wise activations of bottleneck adapters (activation.wgsl): relu, silu and
 * exact (erf) gelu, forward and backward; and tanh, for prefix tuning's reparameterisation MLP. GPT-2's tanh GELU (`gelu_new`) is kernels/gelu/. Element-wise
 * over any shape, e.g. [N, m] bottleneck activations; outputs must not alias inputs.
 * Safe for every finite input: no exp overflow, so no NaN or Inf at ±30 or ±3e38.
 * Cost per element: forward ≤ ~25 FLOPs and one exp (gelu; relu 1 FLOP), fewest bytes 8 (read x,
 * write y); backward ≤ ~30 FLOPs and two exps (gelu), fewest bytes 12 (read x, dy; write dx).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import activationWgsl from './activation.wgsl?raw';

const activationKernel: KernelDefinition = {
  name: 'activation',
  wgsl: activationWgsl,
  bindings: ['uniform', 'read', 'read', 'write'],
};

const workgroupSize = 256;

/** relu; silu = x·σ(x); gelu = exact GELU, x·Φ(x) (nn.GELU(), HF "gelu"); tanh (prefix tuning's MLP). */
export const activationKinds = ['relu', 'silu', 'gelu', 'tanh'] as const;
export type ActivationKind = (typeof activationKinds)[number];

export interface ActivationArgs {
  kind: ActivationKind;
  x: Tensor;
  out: Tensor;
  label?: string;
}

export interface ActivationBackwardArgs {
  kind: ActivationKind;
  x: Tensor;
  dy: Tensor;
  dx: Tensor;
  label?: string;
}

function check(op: string, kind: ActivationKind, inputs: Tensor[], out: Tensor): void {
  if (!activationKinds.includes(kind))
    throw new Error(`${op}: unknown activation "${kind}"; use one of ${activationKinds.join(', ')}.`);
  const all = [...inputs, out];
  if (all.some((t) => t.size !== out.size)) {
    throw new Error(
      `${op}: all tensors must have the same number of elements (${all.map(describeShape).join(', ')}).`,
    );
  }
  const clash = inputs.find((t) => t.buffer === out.buffer);
  if (clash) throw new Error(`${op}: output ${out.label} shares its buffer with input ${clash.label}.`);
}

function launch(
  runtime: Runtime,
  kind: ActivationKind,
  backward: boolean,
  x: Tensor,
  dy: GPUBuffer,
  out: Tensor,
  label: string,
) {
  const vecCount = Math.ceil(x.size / 4);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([x.size, vecCount, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: activationKernel,
    constants: { KIND: activationKinds.indexOf(kind), BACKWARD: backward },
    buffers: [uniform, x.buffer, dy, out.buffer],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label,
    owned: [uniform],
  });
}

export async function activation(runtime: Runtime, args: ActivationArgs): Promise<Dispatch> {
  check('activation', args.kind, [args.x], args.out);
  // dy is not read in the forward pass.
  return launch(
    runtime,
    args.kind,
    false,
    args.x,
    runtime.placeholder.storage,
    args.out,
    args.label ?? `${args.kind} ${args.x.label}`,
  );
}

export async function activationBackward(runtime: Runtime, args: ActivationBackwardArgs): Promise<Dispatch> {
  check('activationBackward', args.kind, [args.x, args.dy], args.dx);
  return launch(
    runtime,
    args.kind,
    true,
    args.x,
    args.dy.buffer,
    args.dx,
    args.label ?? `${args.kind} backward ${args.dy.label}`,
  );
}
