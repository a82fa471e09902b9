/**
 * Model parameters on the GPU, by Hugging Face name, and their gradients.
 * GPT-2's fused c_attn ([C, 3C] Conv1D) is split at upload into q/k/v pieces named
 * `h.{i}.attn.c_attn.{q,k,v}.{weight,bias}`, so attention reads each without strided views;
 * `fuseGpt2Attention` puts them back together for export and for comparison with HF.
 */
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor, uploadTensor } from '../../gpu/tensor';
import type { Checkpoint } from '../io/checkpoint';

export type ParamMap = Map<string, Tensor>;

/** Splits a row-major [C, 3C] matrix (or a [3C] vector) into its three column blocks. */
export function splitColumns(data: Float32Array, rows: number, cols: number, parts: number): Float32Array[] {
  const width = cols / parts;
  return Array.from({ length: parts }, (_, p) => {
    const out = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++)
      out.set(data.subarray(r * cols + p * width, r * cols + (p + 1) * width), r * width);
    return out;
  });
}

/** The inverse of splitColumns. */
export function joinColumns(blocks: Float32Array[], rows: number): Float32Array {
  const width = (blocks[0]?.length ?? 0) / rows;
  const cols = width * blocks.length;
  const out = new Float32Array(rows * cols);
  blocks.forEach((block, p) => {
    for (let r = 0; r < rows; r++) out.set(block.subarray(r * width, (r + 1) * width), r * cols + p * width);
  });
  return out;
}

export async function uploadParams(runtime: Runtime, checkpoint: Checkpoint): Promise<ParamMap> {
  const params: ParamMap = new Map();
  for (const [name, stored] of checkpoint.weights) {
    const data = await checkpoint.read(name);
    const fused = /^(h\.\d+\.attn\.c_attn)\.(weight|bias)$/.exec(name);
    if (fused) {
      const [, prefix, kind] = fused;
      const rows = kind === 'weight' ? (stored.shape[0] as number) : 1;
      const cols = stored.shape.at(-1) as number;
      splitColumns(data, rows, cols, 3).forEach((part, i) => {
        const piece = `${prefix}.${'qkv'[i]}.${kind}`;
        params.set(
          piece,
          uploadTensor(runtime.arena, piece, kind === 'weight' ? [rows, cols / 3] : [cols / 3], part),
        );
      });
    } else {
      params.set(name, uploadTensor(runtime.arena, name, stored.shape, data));
    }
  }
  return params;
}

/** A gradient tensor for every parameter (the full-fine-tuning case). */
export function createGrads(runtime: Runtime, params: ParamMap): ParamMap {
  const grads: ParamMap = new Map();
  for (const [name, p] of params) grads.set(name, createTensor(runtime.arena, `grad ${name}`, p.shape));
  return grads;
}

export function requireTensor(map: ParamMap, name: string): Tensor {
  const t = map.get(name);
  if (!t) throw new Error(`No tensor ${name}.`);
  return t;
}
