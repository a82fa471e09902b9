/**
 * How each of a decoder's weights is stored on the GPU.
 *
 * - 'f16': a checkpoint stored in 16 bits (F16 or BF16, as most recent hub models are) would double in
 *   size if widened to f32; its frozen matrices are kept as binary16 instead, which holds every BF16
 *   weight of magnitude 2⁻¹⁴ to 65504 exactly (smaller ones lose low bits, at most 2⁻²⁵ each), and
 *   every F16 weight exactly.
 * - 'nf4': when the run asks for it (`baseQuantization`, QLoRA's recipe), the decoder layers' frozen
 *   projection matrices are quantized to 4-bit NormalFloat (numeric/nf4.ts) whatever the checkpoint's
 *   precision. As in bitsandbytes, the embeddings and the LM head are not: they stay as above.
 * Kernels widen both to f32 as they read, so arithmetic stays f32.
 *
 * Only matrices read by kernels that take packed input (matmul's B, the embedding lookup and DoRA's
 * norm for halves; matmul's B and DoRA's norm for NF4) qualify, and only while frozen: full fine-tuning
 * trains them in f32. Prompt tuning's start from vocabulary rows copies the token table bytewise, so
 * that table stays f32 there.
 * The loader (params.ts) and the memory planner both ask this file, so the plan counts what is loaded.
 */
import type { DecoderConfig } from './config';
import { embeddingName } from './weight-shapes';

/** What the loaded model is for: training with a method (its name), or inference alone. */
export type WeightUse = 'full' | 'lora' | 'dora' | 'ia3' | 'prefix' | 'prompt' | 'adapter' | 'inference';

export type StoredDtype = 'f32' | 'f16' | 'nf4';

/** A projection matrix inside a decoder layer (Llama family's model.layers.i, GPT-2's h.i). */
const layerMatrix = /^(model\.layers|h)\.\d+\./;

export function storedDtype(
  config: DecoderConfig,
  use: WeightUse,
  name: string,
  dims: readonly number[],
): StoredDtype {
  if (use === 'full' || dims.length !== 2) return 'f32';
  if (config.baseQuantization === 'nf4' && layerMatrix.test(name)) return 'nf4';
  if (!config.halfWeights) return 'f32';
  return use === 'prompt' && name === embeddingName(config) ? 'f32' : 'f16';
}
