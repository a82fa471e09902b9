/**
 * Which of a decoder's weights stay in half precision on the GPU. A checkpoint stored in 16 bits (F16
 * or BF16, as most recent hub models are) would double in size if widened to f32; its frozen
 * matrices are kept as binary16 instead, which holds every BF16 weight of magnitude 2⁻¹⁴ to 65504
 * exactly (smaller ones lose low bits, at most 2⁻²⁵ each), and every F16 weight exactly.
 * Kernels widen them to f32 as they read, so arithmetic is unchanged.
 *
 * Only matrices read by kernels that take half-precision input (matmul's B, the embedding lookup,
 * DoRA's norm) qualify, and only while frozen: full fine-tuning trains them in f32. Prompt tuning's
 * start from vocabulary rows copies the token table bytewise, so that table stays f32 there.
 * The loader (params.ts) and the memory planner both ask this file, so the plan counts what is loaded.
 */
import type { DecoderConfig } from './config';
import { embeddingName } from './weight-shapes';

/** What the loaded model is for: training with a method (its name), or inference alone. */
export type WeightUse = 'full' | 'lora' | 'dora' | 'ia3' | 'prefix' | 'prompt' | 'adapter' | 'inference';

export function keptInHalf(
  config: DecoderConfig,
  use: WeightUse,
  name: string,
  dims: readonly number[],
): boolean {
  if (!config.halfWeights || use === 'full' || dims.length !== 2) return false;
  return !(use === 'prompt' && name === embeddingName(config));
}
