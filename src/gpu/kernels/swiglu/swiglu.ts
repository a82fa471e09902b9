/**
 * Launchers for SwiGLU (swiglu.wgsl), the gate of Llama's MLP: h = silu(gate)·up, forward and backward;
 * with activation 'gelu_tanh', GeGLU, Gemma's: h = gelu_tanh(gate)·up.
 *
 * Shapes (ROWS = B·T tokens, F the MLP width): gate, up, h, dh, dgate, dup: [ROWS, F], or any shape as
 * long as all agree, since the op is element-wise. Outputs must not alias inputs.
 * Cost per element: forward ~6 FLOPs and one exp, fewest bytes 12 (read gate, up; write h);
 * backward ~10 FLOPs and one exp, fewest bytes 20 (read gate, up, dh; write dgate, dup).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import geluTanhWgsl from '../gelu/gelu-tanh.wgsl?raw';
import swigluWgsl from './swiglu.wgsl?raw';

const swigluKernel: KernelDefinition = {
  name: 'swiglu',
  wgsl: `${geluTanhWgsl}\n${swigluWgsl}`,
  bindings: ['uniform', 'read', 'read', 'read', 'write', 'write'],
};

const workgroupSize = 256;

/** The gate's activation: silu (Llama, the default) or GELU's tanh approximation (Gemma). */
export type GateActivation = 'silu' | 'gelu_tanh';

export interface SwigluArgs {
  gate: Tensor;
  up: Tensor;
  /** h = act(gate)·up. */
  out: Tensor;
  activation?: GateActivation;
  label?: string;
}

export interface SwigluBackwardArgs {
  gate: Tensor;
  up: Tensor;
  dh: Tensor;
  dgate: Tensor;
  dup: Tensor;
  activation?: GateActivation;
  label?: string;
}

function checkTensors(op: string, inputs: Tensor[], outputs: Tensor[]): void {
  const all = [...inputs, ...outputs];
  const first = all[0] as Tensor;
  const shapes = all.map(describeShape).join(', ');
  if (all.some((t) => t.size !== first.size)) {
    throw new Error(`${op}: all tensors must have the same number of elements (${shapes}).`);
  }
  outputs.forEach((output, k) => {
    const clash = all.find((t, j) => j !== inputs.length + k && t.buffer === output.buffer);
    if (clash) throw new Error(`${op}: output ${output.label} shares its buffer with ${clash.label}.`);
  });
}

function launch(
  runtime: Runtime,
  count: number,
  backward: boolean,
  activation: GateActivation | undefined,
  buffers: GPUBuffer[],
  label: string,
) {
  const vecCount = Math.ceil(count / 4);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([count, vecCount, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: swigluKernel,
    constants: { BACKWARD: backward, GELU: activation === 'gelu_tanh' },
    buffers: [uniform, ...buffers],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label,
    owned: [uniform],
  });
}

export async function swiglu(runtime: Runtime, args: SwigluArgs): Promise<Dispatch> {
  const { gate, up, out } = args;
  checkTensors('swiglu', [gate, up], [out]);
  // The forward pass neither reads dh nor writes dup. gate stands in for dh, since the placeholder
  // cannot be bound read-only and writable in one dispatch.
  const dhStandIn = gate.buffer;
  const dupStandIn = runtime.placeholder.storage;
  return launch(
    runtime,
    gate.size,
    false,
    args.activation,
    [gate.buffer, up.buffer, dhStandIn, out.buffer, dupStandIn],
    args.label ?? `swiglu ${gate.label}, ${up.label}`,
  );
}

export async function swigluBackward(runtime: Runtime, args: SwigluBackwardArgs): Promise<Dispatch> {
  const { gate, up, dh, dgate, dup } = args;
  checkTensors('swigluBackward', [gate, up, dh], [dgate, dup]);
  return launch(
    runtime,
    gate.size,
    true,
    args.activation,
    [gate.buffer, up.buffer, dh.buffer, dgate.buffer, dup.buffer],
    args.label ?? `swiglu backward ${dh.label}`,
  );
}
