/**
 * Launcher for column sums (sum-rows.wgsl): out[c] = Σ_r x[r, c], over every leading dimension of x.
 * FLOPs: ROWS·COLS adds. Fewest bytes: 4·(ROWS·COLS + COLS).
 */
import { ceilDiv, createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import sumRowsWgsl from './sum-rows.wgsl?raw';

const sumRowsKernel: KernelDefinition = {
  name: 'sum-rows',
  wgsl: sumRowsWgsl,
  bindings: ['uniform', 'read', 'write'],
};

export interface SumRowsArgs {
  x: Tensor;
  out: Tensor;
  accumulate?: boolean;
  label?: string;
}

export async function sumRows(runtime: Runtime, args: SumRowsArgs): Promise<Dispatch> {
  const cols = args.x.shape.at(-1) ?? 1;
  const rows = cols === 0 ? 0 : args.x.size / cols;
  if (args.out.size !== cols) {
    throw new Error(
      `sumRows: ${args.out.label} has ${args.out.size} elements; ${args.x.label} has ${cols} columns.`,
    );
  }
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([rows, cols, 0, 0]).buffer);
  return makeDispatch(runtime, {
    kernel: sumRowsKernel,
    constants: { ACCUMULATE: Boolean(args.accumulate) },
    buffers: [uniform, args.x.buffer, args.out.buffer],
    workgroups: [ceilDiv(cols, 16), 1, 1],
    label: args.label ?? `sum rows of ${args.x.label}`,
    owned: [uniform],
  });
}
