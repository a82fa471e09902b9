/**
 * Launcher for the KV-cache append (kv-append.wgsl): src [B, T, ...W] into cache [B, S, ...W] at each
 * row's offset (u32 [B]). No backward: the cache is only used for generation.
 * Bytes: 8 per appended element.
 */
import { createUniform, type Dispatch, makeDispatch } from '../../dispatch';
import { grid1d } from '../../grid';
import type { KernelDefinition } from '../../pipeline-cache';
import type { Runtime } from '../../runtime';
import type { Tensor } from '../../tensor';
import kvAppendWgsl from './kv-append.wgsl?raw';

const kvAppendKernel: KernelDefinition = {
  name: 'kv-append',
  wgsl: kvAppendWgsl,
  bindings: ['uniform', 'read', 'read', 'write'],
};

export interface KvAppendArgs {
  src: Tensor;
  cache: Tensor;
  offsets: Tensor;
  label?: string;
}

export async function kvAppend(runtime: Runtime, args: KvAppendArgs): Promise<Dispatch> {
  const [B, S] = args.cache.shape as [number, number];
  const W = args.cache.size / (B * S);
  const T = args.src.size / (B * W);
  if (
    !Number.isInteger(T) ||
    args.src.shape[0] !== B ||
    args.offsets.size !== B ||
    args.offsets.dtype !== 'u32'
  ) {
    throw new Error(
      `kvAppend: ${args.src.label}[${args.src.shape.join(', ')}] does not fit cache ${args.cache.label}` +
        `[${args.cache.shape.join(', ')}] with u32 offsets [${B}].`,
    );
  }
  const uniform = createUniform(runtime, 'uniforms', new Uint32Array([B, T, S, W]).buffer);
  return makeDispatch(runtime, {
    kernel: kvAppendKernel,
    buffers: [uniform, args.offsets.buffer, args.src.buffer, args.cache.buffer],
    workgroups: grid1d(runtime, B * T * W, 256),
    label: args.label ?? `append ${args.src.label} to ${args.cache.label}`,
    owned: [uniform],
  });
}
