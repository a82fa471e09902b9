/**
 * Launchers for GELU, tanh approximation (gelu.wgsl; HF `gelu_new`, `gelu_pytorch_tanh`), forward and
 * backward. Element-wise over any shape, e.g. [ROWS, F] in GPT-2's MLP; outputs must not alias inputs.
 * Safe for every finite input: no tanh or exp overflow, so no NaN or Inf at ±30 or ±3e38.
 * Cost per element: forward ~12 FLOPs and one exp, fewest bytes 8 (read x, write y);
 * backward ~18 FLOPs and one exp, fewest bytes 12 (read x, dy; write dx).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import geluWgsl from './gelu.wgsl?raw';
import geluTanhWgsl from './gelu-tanh.wgsl?raw';

const geluKernel: KernelDefinition = {
  name: 'gelu',
  wgsl: `${geluTanhWgsl}\n${geluWgsl}`,
  bindings: ['uniform', 'read', 'read', 'write'],
};

const workgroupSize = 256;

export interface GeluArgs {
  x: Tensor;
  out: Tensor;
  label?: string;
}

export interface GeluBackwardArgs {
  x: Tensor;
  dy: Tensor;
  dx: Tensor;
  label?: string;
}

function check(op: string, inputs: Tensor[], out: Tensor): void {
  const all = [...inputs, out];
  if (all.some((t) => t.size !== out.size)) {
    throw new Error(
      `${op}: all tensors must have the same number of elements (${all.map(describeShape).join(', ')}).`,
    );
  }
  const clash = inputs.find((t) => t.buffer === out.buffer);
  if (clash) throw new Error(`${op}: output ${out.label} shares its buffer with input ${clash.label}.`);
}

function launch(runtime: Runtime, backward: boolean, x: Tensor, dy: GPUBuffer, out: Tensor, label: string) {
  const vecCount = Math.ceil(x.size / 4);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([x.size, vecCount, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: geluKernel,
    constants: { BACKWARD: backward },
    buffers: [uniform, x.buffer, dy, out.buffer],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label,
    owned: [uniform],
  });
}

export async function gelu(runtime: Runtime, args: GeluArgs): Promise<Dispatch> {
  check('gelu', [args.x], args.out);
  // dy is not read in the forward pass.
  return launch(
    runtime,
    false,
    args.x,
    runtime.placeholder.storage,
    args.out,
    args.label ?? `gelu ${args.x.label}`,
  );
}

export async function geluBackward(runtime: Runtime, args: GeluBackwardArgs): Promise<Dispatch> {
  check('geluBackward', [args.x, args.dy], args.dx);
  return launch(
    runtime,
    true,
    args.x,
    args.dy.buffer,
    args.dx,
    args.label ?? `gelu backward ${args.dy.label}`,
  );
}
