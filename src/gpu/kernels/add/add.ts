/**
 * Launcher for the residual add (add.wgsl): out = a + b, or `accumulate: true` for out += b.
 * Element-wise over any shape, e.g. [B, T, C] residual streams; all tensors have the same size.
 * No backward kernel: the gradient of a sum is the identity, da = db = dout, so backprop passes dout
 * on to both branches (adding it into a gradient that already has a value is `accumulate`).
 * out may not alias a or b; to add in place, accumulate into the tensor instead.
 * Cost per element: 1 FLOP; fewest bytes 12 (read a, b, write out; or read out, b, write out).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import { describeShape, type Tensor } from '../../tensor';
import addWgsl from './add.wgsl?raw';

const addKernel: KernelDefinition = {
  name: 'add',
  wgsl: addWgsl,
  bindings: ['uniform', 'read', 'read', 'write'],
};

const workgroupSize = 256;

export type AddArgs =
  | { a: Tensor; b: Tensor; out: Tensor; accumulate?: false; label?: string }
  | { b: Tensor; out: Tensor; accumulate: true; label?: string };

export async function add(runtime: Runtime, args: AddArgs): Promise<Dispatch> {
  const { b, out } = args;
  const a = args.accumulate ? undefined : args.a;
  const inputs = a ? [a, b] : [b];
  if ([...inputs, out].some((t) => t.size !== out.size)) {
    const shapes = [...inputs, out].map(describeShape).join(', ');
    throw new Error(`add: all tensors must have the same number of elements (${shapes}).`);
  }
  const clash = inputs.find((t) => t.buffer === out.buffer);
  if (clash) {
    throw new Error(
      `add: out ${out.label} shares its buffer with ${clash.label}; use { accumulate: true } to add in place.`,
    );
  }
  const vecCount = Math.ceil(out.size / 4);
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([out.size, vecCount, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: addKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate) },
    // a is not read when accumulating.
    buffers: [uniform, a?.buffer ?? runtime.placeholder.storage, b.buffer, out.buffer],
    workgroups: grid1d(runtime, vecCount, workgroupSize),
    label: args.label ?? (a ? `add ${a.label} + ${b.label}` : `add ${b.label} into ${out.label}`),
    owned: [uniform],
  });
}
