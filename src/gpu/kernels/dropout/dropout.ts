/**
 * Launcher for inverted dropout (forward, and backward with the same key).
 * FLOPs: 1 multiply and ~12 integer ops per element. Bytes: 8 per element (read x, write y).
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import { dropoutScale, dropoutThreshold } from './dropout.ref';
import dropoutWgsl from './dropout.wgsl?raw';
import hashWgsl from './dropout-hash.wgsl?raw';
import type { RngState } from './rng-state';

export const dropoutHashWgsl = hashWgsl;

const dropoutKernel: KernelDefinition = {
  name: 'dropout',
  wgsl: `${hashWgsl}\n${dropoutWgsl}`,
  bindings: ['uniform', 'uniform', 'read', 'write'],
};

export interface DropoutArgs {
  x: Tensor;
  y: Tensor;
  p: number;
  rng: RngState;
  /** Distinguishes dropout sites within one step. */
  stream: number;
  label?: string;
}

export async function dropout(runtime: Runtime, args: DropoutArgs): Promise<Dispatch> {
  const { x, y } = args;
  if (x.size !== y.size) throw new Error(`dropout: ${x.label} and ${y.label} differ in size.`);
  const label = args.label ?? `dropout ${x.label}`;
  const params = new ArrayBuffer(16);
  new Uint32Array(params, 0, 3).set([x.size, args.stream >>> 0, dropoutThreshold(args.p)]);
  new Float32Array(params, 12, 1)[0] = dropoutScale(args.p);
  const uniform = createUniform(runtime, 'uniforms', params);
  return makeDispatch(runtime, {
    kernel: dropoutKernel,
    buffers: [uniform, args.rng.buffer, x.buffer, y.buffer],
    workgroups: grid1d(runtime, x.size, 256),
    label,
    owned: [uniform],
  });
}
