/**
 * Launcher for block copies (column-copy.wgsl) between row-major matrices: a block of columns of every
 * row, or of a range of rows. Its own backward: the gradient of a split is a join into the same block
 * (copy back with the offsets swapped). Bytes: 8 per element (12 when accumulating).
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
  /** A range of rows: `count` rows from src row `src` to dst row `dst`. Absent: every row of both. */
  rows?: { src: number; dst: number; count: number };
  accumulate?: boolean;
  label?: string;
}

export async function columnCopy(runtime: Runtime, args: ColumnCopyArgs): Promise<Dispatch> {
  const srcStride = args.src.shape.at(-1) ?? 1;
  const dstStride = args.dst.shape.at(-1) ?? 1;
  const [srcRows, dstRows] = [args.src.size / srcStride, args.dst.size / dstStride];
  const range = args.rows ?? { src: 0, dst: 0, count: srcRows };
  const rows = range.count;
  if (
    (!args.rows && dstRows !== srcRows) ||
    range.src + rows > srcRows ||
    range.dst + rows > dstRows ||
    args.srcOffset + args.width > srcStride ||
    args.dstOffset + args.width > dstStride
  ) {
    const block = (row: number, offset: number) =>
      `rows [${row}, +${rows}), columns [${offset}, +${args.width})`;
    throw new Error(
      `columnCopy: ${block(range.src, args.srcOffset)} of ${args.src.label}[${args.src.shape.join(', ')}] ` +
        `do not fit ${block(range.dst, args.dstOffset)} of ${args.dst.label}[${args.dst.shape.join(', ')}].`,
    );
  }
  const uniform = createUniform(
    runtime,
    'uniforms',
    new Uint32Array([
      rows,
      args.width,
      srcStride,
      args.srcOffset,
      dstStride,
      args.dstOffset,
      range.src,
      range.dst,
    ]).buffer,
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
