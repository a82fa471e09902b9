/**
 * Launcher for column-block copies (column-copy.wgsl) between [ROWS, W] matrices. Its own backward:
 * the gradient of a split is a join into the same columns (copy back with the offsets swapped).
 * Bytes: 8 per element (12 when accumulating).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import columnCopyWgsl from './column-copy.wgsl?raw';

const columnCopyKernel: KernelDefinition = {
  name: 'column-copy',
  wgsl: columnCopyWgsl,
  bindings: ['uniform', 'read', 'write'],
};

export interface ColumnCopyArgs {
  src: Tensor;
  srcOffset: number;
  dst: Tensor;
  dstOffset: number;
  width: number;
  accumulate?: boolean;
  label?: string;
}

export async function columnCopy(runtime: Runtime, args: ColumnCopyArgs): Promise<Dispatch> {
  const srcStride = args.src.shape.at(-1) ?? 1;
  const dstStride = args.dst.shape.at(-1) ?? 1;
  const rows = args.src.size / srcStride;
  if (
    args.dst.size / dstStride !== rows ||
    args.srcOffset + args.width > srcStride ||
    args.dstOffset + args.width > dstStride
  ) {
    throw new Error(
      `columnCopy: columns [${args.srcOffset}, +${args.width}) of ${args.src.label}[${args.src.shape.join(', ')}] ` +
        `do not fit columns [${args.dstOffset}, +${args.width}) of ${args.dst.label}[${args.dst.shape.join(', ')}].`,
    );
  }
  const uniform = createUniform(
    runtime,
    'uniforms',
    new Uint32Array([rows, args.width, srcStride, args.srcOffset, dstStride, args.dstOffset, 0, 0]).buffer,
  );
  return makeDispatch(runtime, {
    kernel: columnCopyKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate) },
    buffers: [uniform, args.src.buffer, args.dst.buffer],
    workgroups: grid1d(runtime, rows * args.width, 256),
    label: args.label ?? `columns of ${args.src.label} into ${args.dst.label}`,
    owned: [uniform],
  });
}
