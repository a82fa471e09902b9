/**
 * The three tiled attention kernels (forward, dQ, dK/dV) as WGSL modules, one per head-dim bucket.
 * Each thread keeps its rows in private arrays of MAX_VECS vec4s. WGSL sizes a private array with a
 * constant, not an override, so the launcher picks the smallest bucket (16, 32, 64, 128 or 256 floats
 * per row) that holds the head dim and compiles that module: registers and workgroup tiles fit the
 * model's D instead of the largest one (on SwiftShader a module sized for D = 128 also took 3–4 times as
 * long to compile as one for D = 16). Modules are built once per bucket. The 256 bucket (Gemma 3's head
 * dim) halves each tile's rows (TILE_DIVISOR) to stay within 16 KiB of workgroup memory.
 */
import type { KernelDefinition } from '../../pipeline-cache';
import softcapWgsl from '../cross-entropy/softcap.wgsl?raw';
import hashWgsl from '../dropout/dropout-hash.wgsl?raw';
import dkdvWgsl from './attention-backward-dkdv.wgsl?raw';
import dqWgsl from './attention-backward-dq.wgsl?raw';
import commonWgsl from './attention-common.wgsl?raw';
import forwardWgsl from './attention-forward.wgsl?raw';

export interface TiledAttentionKernels {
  forward: KernelDefinition;
  dq: KernelDefinition;
  dkdv: KernelDefinition;
}

const headDimBuckets = [16, 32, 64, 128, 256] as const;
/** The largest head dim whose tiles fit 16 KiB of workgroup memory at full height. */
const fullTileHeadDim = 128;
const built = new Map<number, TiledAttentionKernels>();

/** The smallest bucket holding D (callers have checked 1 ≤ D ≤ 256). */
export function headDimBucket(D: number): number {
  const bucket = headDimBuckets.find((b) => D <= b);
  if (bucket === undefined) throw new Error(`attention: head dim ${D} is above ${headDimBuckets.at(-1)}.`);
  return bucket;
}

export function tiledAttentionKernels(D: number): TiledAttentionKernels {
  const bucket = headDimBucket(D);
  let kernels = built.get(bucket);
  if (!kernels) {
    const tileDivisor = Math.max(1, bucket / fullTileHeadDim);
    const prelude =
      `${hashWgsl}\n${softcapWgsl}\n${commonWgsl}\nconst MAX_VECS: u32 = ${bucket / 4}u;\n` +
      `const TILE_DIVISOR: u32 = ${tileDivisor}u;\n`;
    const kernel = (name: string, wgsl: string, bindings: KernelDefinition['bindings']) => ({
      name: `${name}-d${bucket}`,
      wgsl: `${prelude}${wgsl}`,
      bindings,
    });
    kernels = {
      // params, keyMask, q, k, v, out, lse, rng
      forward: kernel('attention-forward', forwardWgsl, [
        'uniform',
        'read',
        'read',
        'read',
        'read',
        'write',
        'write',
        'uniform',
      ]),
      // params, keyMask, q, k, v, dOut, rowStats, dq, rng
      dq: kernel('attention-backward-dq', dqWgsl, [
        'uniform',
        'read',
        'read',
        'read',
        'read',
        'read',
        'read',
        'write',
        'uniform',
      ]),
      // params, keyMask, q, k, v, dOut, rowStats, dk, dv, rng
      dkdv: kernel('attention-backward-dkdv', dkdvWgsl, [
        'uniform',
        'read',
        'read',
        'read',
        'read',
        'read',
        'read',
        'write',
        'write',
        'uniform',
      ]),
    };
    built.set(bucket, kernels);
  }
  return kernels;
}
