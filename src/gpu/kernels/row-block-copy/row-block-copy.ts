/**
 * Launchers for prompt tuning's block copy (Lester et al. 2021): a learned block [P, C] written over the
 * first P rows of each of B sequences in a [B·T, C] matrix (row-block-copy.wgsl), and its backward, the
 * block's gradient Σ_b of those rows of the output gradient (row-block-copy-backward.wgsl; summed in a
 * fixed order, so deterministic).
 *
 * Shapes: block, dblock [P, C]   dst, src [B·T, C] (or [B, T, C]) with P ≤ T.
 * Forward: 0 FLOPs; fewest bytes 4·P·C read + 4·B·P·C written.
 * Backward: (B − 1)·P·C adds; fewest bytes 4·B·P·C read + 4·P·C written.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import rowBlockCopyWgsl from './row-block-copy.wgsl?raw';
import rowBlockCopyBackwardWgsl from './row-block-copy-backward.wgsl?raw';

const forwardKernel: KernelDefinition = {
  name: 'row-block-copy',
  wgsl: rowBlockCopyWgsl,
  bindings: ['uniform', 'read', 'write'],
};

const backwardKernel: KernelDefinition = {
  name: 'row-block-copy-backward',
  wgsl: rowBlockCopyBackwardWgsl,
  bindings: ['uniform', 'read', 'write'],
};

const workgroupSize = 256;

/** B and T of `rows` [B·T, C] for a block [P, C], checked. */
function layout(what: string, block: Tensor, rows: Tensor, B: number) {
  const [P, C] = block.shape as [number, number];
  const width = rows.shape.at(-1) ?? 1;
  const T = rows.size / (B * width);
  if (block.shape.length !== 2 || width !== C || !Number.isInteger(T) || P > T || B < 1) {
    throw new Error(
      `${what}: a block ${block.label} [${block.shape.join(', ')}] does not fit the first rows of ` +
        `${B} sequences of ${rows.label} [${rows.shape.join(', ')}].`,
    );
  }
  return { B, T, P, C };
}

function uniforms(runtime: Runtime, l: { B: number; T: number; P: number; C: number }): GPUBuffer {
  return createUniform(runtime, 'uniforms', new Uint32Array([l.B, l.P * l.C, l.T * l.C, 0]).buffer);
}

export interface RowBlockCopyArgs {
  /** [P, C]. */
  block: Tensor;
  /** [B·T, C]: rows [b·T, b·T + P) of each sequence b are overwritten. */
  dst: Tensor;
  /** B, the number of sequences in dst. */
  batches: number;
  label?: string;
}

export async function rowBlockCopy(runtime: Runtime, args: RowBlockCopyArgs): Promise<Dispatch> {
  const l = layout('rowBlockCopy', args.block, args.dst, args.batches);
  const uniform = uniforms(runtime, l);
  return makeDispatch(runtime, {
    kernel: forwardKernel,
    buffers: [uniform, args.block.buffer, args.dst.buffer],
    workgroups: grid1d(runtime, l.B * l.P * l.C, workgroupSize),
    label: args.label ?? `${args.block.label} into the first rows of ${args.dst.label}`,
    owned: [uniform],
  });
}

export interface RowBlockCopyBackwardArgs {
  /** [B·T, C]: the gradient of the matrix the block was copied into. */
  src: Tensor;
  /** [P, C]: overwritten with Σ_b src[b·T + p, c]. */
  dblock: Tensor;
  batches: number;
  label?: string;
}

export async function rowBlockCopyBackward(
  runtime: Runtime,
  args: RowBlockCopyBackwardArgs,
): Promise<Dispatch> {
  const l = layout('rowBlockCopyBackward', args.dblock, args.src, args.batches);
  const uniform = uniforms(runtime, l);
  return makeDispatch(runtime, {
    kernel: backwardKernel,
    buffers: [uniform, args.src.buffer, args.dblock.buffer],
    workgroups: grid1d(runtime, l.P * l.C, workgroupSize),
    label: args.label ?? `${args.dblock.label} from the first rows of ${args.src.label}`,
    owned: [uniform],
  });
}
