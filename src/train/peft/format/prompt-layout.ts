/**
 * The one tensor a prompt-tuning or prefix-tuning adapter saves, `prompt_embeddings`, and how PEFT feeds
 * it to the model, so the GPU side can consume it exactly. From PEFT v0.20.0:
 *
 * Prompt tuning (tuners/prompt_tuning/model.py, PromptEmbedding): an nn.Embedding of
 * num_virtual_tokens * num_transformer_submodules rows (1 submodule for a decoder) by token_dim = C,
 * saved as `prompt_embeddings` [nvt, C]. PeftModelForCausalLM.forward concatenates these rows before the
 * token embeddings, prepends nvt ones to the attention mask and nvt -100s to the labels; the virtual
 * tokens then take positions 0..nvt-1 like any token (GPT-2 adds wpe to them).
 *
 * Prefix tuning (tuners/prefix_tuning/model.py, PrefixEncoder, prefix_projection false): an
 * nn.Embedding [nvt, num_layers * 2 * token_dim], saved as `prompt_embeddings` with that shape.
 * peft_model.py, get_prompt, views it as [batch, nvt, num_layers * 2, H, token_dim / H] with
 * H = num_attention_heads, permutes to [num_layers * 2, batch, H, nvt, Dh] and splits it in pairs; pair l
 * is layer l's (key, value) in a DynamicCache. Hence, for row t of the saved tensor:
 *   prompt_embeddings[t, ((2*l + s) * H + h) * Dh + d],  s = 0 key, 1 value,
 * is the key or value of virtual token t, layer l, KV head h, channel d. These enter the cache as they
 * are: no rotary embedding is applied to them (Llama caches keys after RoPE, so they act as already
 * rotated keys), and the real tokens' positions start at nvt (forward offsets position_ids by nvt, and
 * transformers counts the cached tokens otherwise). The attention mask gains nvt leading ones.
 * For grouped-query attention (utils/other.py, _prepare_prompt_learning_config, when the model config
 * has num_key_value_heads) PEFT sets token_dim = KV * head_dim and num_attention_heads = KV, so H is the
 * number of KV heads and each prefix head serves its group of query heads, like the model's own K/V.
 * GPT-2 keeps token_dim = C and H = NH. encoder_hidden_size defaults to token_dim.
 */
import { type EncoderConfig, isEncoderConfig } from '../../models/bert-config';
import type { DecoderConfig } from '../../models/config';

export const promptEmbeddingsKey = 'prompt_embeddings';

/** token_dim and num_attention_heads as PEFT fills them for prefix tuning on this model. */
export function prefixDims(model: DecoderConfig | EncoderConfig): {
  tokenDim: number;
  numAttentionHeads: number;
} {
  // Encoders (BERT, RoBERTa) have as many key/value heads as query heads, as GPT-2.
  if (isEncoderConfig(model) || model.family === 'gpt2')
    return { tokenDim: model.C, numAttentionHeads: model.NH };
  return { tokenDim: model.KV * model.D, numAttentionHeads: model.KV };
}

export interface PromptShape {
  numVirtualTokens: number;
  numTransformerSubmodules: number;
  tokenDim: number;
}

/** [nvt * submodules, token_dim]. */
export function promptTuningShape(c: PromptShape): number[] {
  return [c.numVirtualTokens * c.numTransformerSubmodules, c.tokenDim];
}

export interface PrefixShape {
  numVirtualTokens: number;
  numLayers: number;
  tokenDim: number;
  numAttentionHeads: number;
}

/** [nvt, num_layers * 2 * token_dim]. */
export function prefixTuningShape(c: PrefixShape): number[] {
  return [c.numVirtualTokens, c.numLayers * 2 * c.tokenDim];
}

/** Flat index into prompt_embeddings of one key or value channel (see the header for the layout). */
export function prefixIndex(
  c: PrefixShape,
  token: number,
  layer: number,
  kv: 'key' | 'value',
  head: number,
  channel: number,
): number {
  const H = c.numAttentionHeads;
  const Dh = c.tokenDim / H;
  const row = token * c.numLayers * 2 * c.tokenDim;
  return row + ((2 * layer + (kv === 'key' ? 0 : 1)) * H + head) * Dh + channel;
}
