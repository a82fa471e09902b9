/**
 * The attention options of each layer of a Llama-family step: causal over the step's own keys (with the
 * prefix's, or the row padding's, key mask), or when decoding, over the KV cache, whose mask already hides
 * the slots not yet filled. A sliding layer masks keys past its window: the kernels' window in a step, the
 * cache's window mask when decoding. Gemma scales q·k by query_pre_attn_scalar^-½, and Gemma 2 soft-caps
 * the scores.
 */
import type { AttentionOptions } from '../../../gpu/kernels/attention/attention';
import type { Tensor } from '../../../gpu/tensor';
import { type DecoderConfig, slidingWindowAt } from '../config';
import type { KvCache } from '../decoder-step';

export function attentionOptionsOf(
  c: DecoderConfig,
  keyMask: Tensor,
  cache?: KvCache,
): (layer: number) => AttentionOptions {
  const scale = c.gemma?.attentionScale;
  const softcap = c.gemma?.attentionSoftcap;
  const attention = cache?.attend
    ? { causal: false, keyMask: cache.mask, scale, softcap }
    : { causal: true, keyMask, scale, softcap };
  return (layer) => {
    const window = slidingWindowAt(c, layer);
    if (window === undefined) return attention;
    if (!cache?.attend) return { ...attention, window };
    if (!cache.window) throw new Error("Decoding a sliding-window model needs the cache's window mask.");
    return { causal: false, keyMask: cache.window.mask, scale, softcap };
  };
}
