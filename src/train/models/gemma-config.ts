/**
 * Gemma 2's and Gemma 3's text models' config.json (Gemma2Config, Gemma3TextConfig) into the decoder
 * config. Both: (1 + w) norms, sandwich norms, GeGLU, √C embeddings, query_pre_attn_scalar, sliding
 * layers. Gemma 2 soft-caps its attention scores and final logits; Gemma 3 has per-head q/k norms and its
 * sliding layers rotate by their own RoPE base.
 */
import type { DecoderConfig } from './config';
import {
  checkHeads,
  int,
  type Json,
  listedSlidingLayers,
  num,
  rotary,
  slidingWindowFields,
  storedPrecision,
  tokenIds,
} from './config-fields';
import { ModelConfigError } from './errors';

/**
 * Gemma2ForCausalLM (gemma2: Gemma 2 2B, 9B, 27B), with Gemma2Config's defaults: layers slide by
 * layer_types or alternately, from layer 0; scores are soft-capped at attn_logit_softcapping (50) and the
 * logits at final_logit_softcapping (30).
 * Gemma3ForCausalLM (gemma3_text: Gemma 3 270M and 1B), with Gemma3TextConfig's defaults: layers slide
 * by layer_types, or every layer but each sliding_window_pattern-th (6); sliding layers rotate by
 * rope_local_base_freq, full ones by rope_theta (and rope_scaling). Gemma3Attention ignores
 * attn_logit_softcapping, and so does this; a final soft-cap and bidirectional attention (EmbeddingGemma)
 * are refused by name rather than run as something else.
 */
export function gemmaConfig(
  json: Json,
  architecture: 'Gemma2ForCausalLM' | 'Gemma3ForCausalLM',
): DecoderConfig {
  const gemma2 = architecture === 'Gemma2ForCausalLM';
  const C = int(json, 'hidden_size', 2304);
  const NH = int(json, 'num_attention_heads', 8);
  const KV = int(json, 'num_key_value_heads', 4);
  const D = int(json, 'head_dim', 256);
  const L = int(json, 'num_hidden_layers', 26);
  checkHeads(NH, KV, D);
  const act = json.hidden_activation ?? json.hidden_act ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh' && act !== 'gelu_new')
    throw new ModelConfigError(
      `config.json: hidden_activation "${String(act)}" is not supported; Gemma uses "gelu_pytorch_tanh".`,
    );
  if (!gemma2 && json.final_logit_softcapping != null)
    throw new ModelConfigError(
      `config.json: final_logit_softcapping ${JSON.stringify(json.final_logit_softcapping)} is not supported for Gemma 3.`,
    );
  if (json.use_bidirectional_attention === true)
    throw new ModelConfigError(
      'config.json: use_bidirectional_attention (an embedding model) is not supported.',
    );
  const attentionBias = json.attention_bias === true;
  // Gemma 2 has one RoPE base; Gemma 3 a second one for its sliding layers.
  const { full, sliding } = gemma2 ? { full: rotary(json, 1e4), sliding: undefined } : gemmaRotary(json);
  // Without layer_types, Gemma 2 alternates, sliding first; Gemma 3 slides but for every
  // sliding_window_pattern-th layer.
  const pattern = gemma2 ? 2 : int(json, 'sliding_window_pattern', 6);
  const slides = listedSlidingLayers(json, L) ?? ((i: number) => (i + 1) % pattern !== 0);
  return {
    architecture,
    family: 'llama',
    V: int(json, 'vocab_size', gemma2 ? 256000 : 262208),
    C,
    L,
    NH,
    KV,
    D,
    F: int(json, 'intermediate_size', 9216),
    P: int(json, 'max_position_embeddings', gemma2 ? 8192 : 131072),
    norm: 'rms',
    normEps: num(json, 'rms_norm_eps', 1e-6),
    activation: 'gelu_tanh',
    positions: 'rope',
    ...full,
    ...(sliding && (sliding.ropeTheta !== full.ropeTheta || full.ropeScaling)
      ? { localRopeTheta: sliding.ropeTheta }
      : {}),
    qkvBias: attentionBias,
    outBias: attentionBias,
    mlpBias: false,
    ...(gemma2 ? {} : { qkNorm: true as const }),
    ...slidingWindowFields(json, L, slides, 4096),
    gemma: {
      // Gemma3TextScaledWordEmbedding: √hidden_size, in the weights' dtype (f32 here).
      embedScale: Math.fround(Math.sqrt(C)),
      attentionScale: num(json, 'query_pre_attn_scalar', 256) ** -0.5,
      ...(gemma2 ? softcaps(json) : {}),
    },
    tieWordEmbeddings: json.tie_word_embeddings !== false,
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : 2,
    eosTokenIds: json.eos_token_id === undefined ? [1] : tokenIds(json.eos_token_id),
    ...storedPrecision(json),
  };
}

/**
 * Gemma 3's two RoPE bases: full-attention layers rope_theta (1e6) with rope_scaling, sliding ones
 * rope_local_base_freq (1e4); transformers v5 writes them as rope_parameters per layer type.
 */
function gemmaRotary(json: Json) {
  const perType = json.rope_parameters as Json | undefined;
  if (perType && (perType.full_attention !== undefined || perType.sliding_attention !== undefined)) {
    const of = (type: string, theta: number) => {
      const p = (perType[type] ?? {}) as Json;
      return rotary({ rope_parameters: p }, theta);
    };
    return { full: of('full_attention', 1e6), sliding: of('sliding_attention', 1e4) };
  }
  const full = rotary(json, 1e6);
  return { full, sliding: { ropeTheta: num(json, 'rope_local_base_freq', 1e4) } };
}

/** Gemma 2's soft-caps, Gemma2Config's 50 and 30 when absent; null turns one off. */
function softcaps(json: Json): { attentionSoftcap?: number; logitSoftcap?: number } {
  const cap = (key: string, fallback: number) => (json[key] === null ? undefined : num(json, key, fallback));
  const attention = cap('attn_logit_softcapping', 50);
  const logits = cap('final_logit_softcapping', 30);
  return {
    ...(attention === undefined ? {} : { attentionSoftcap: attention }),
    ...(logits === undefined ? {} : { logitSoftcap: logits }),
  };
}
