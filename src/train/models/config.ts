/**
 * Reads a Hugging Face `config.json` into one typed decoder config, for Llama (Llama 2/3, SmolLM,
 * TinyLlama), Mistral, Qwen2, Qwen3, SmolLM3, Gemma 2 and 3 (gemma-config.ts) and GPT-2. Field names
 * and defaults follow transformers' LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config,
 * SmolLM3Config, Gemma2Config, Gemma3TextConfig and GPT2Config. Anything else is an
 * `UnsupportedArchitectureError` that lists what is supported.
 *
 * Dimension letters: V vocabulary, C hidden width, L layers, NH query heads, KV key/value heads,
 * D head width, F feed-forward width, P maximum positions.
 */
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
import {
  type Architecture,
  ModelConfigError,
  supportedArchitectures,
  UnsupportedArchitectureError,
} from './errors';
import { gemmaConfig } from './gemma-config';

export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface DecoderConfig {
  architecture: Architecture;
  family: 'llama' | 'gpt2';
  V: number;
  C: number;
  L: number;
  NH: number;
  KV: number;
  D: number;
  F: number;
  P: number;
  norm: 'rms' | 'layer';
  normEps: number;
  /** The MLP's activation: the gate's in Llama-family models (silu; Gemma's gelu_tanh), GPT-2's gelu_new. */
  activation: 'silu' | 'gelu_tanh' | 'gelu_new';
  positions: 'rope' | 'learned';
  ropeTheta: number;
  ropeScaling?: Llama3RopeScaling;
  /** q/k/v projections carry biases (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  /** The output projection carries a bias (Llama and Qwen3 attention_bias; GPT-2 always). */
  outBias: boolean;
  mlpBias: boolean;
  /**
   * Qwen3: each head's queries and keys go through an RMSNorm over the head width (q_norm, k_norm,
   * weights [D]) before RoPE.
   */
  qkNorm?: true;
  /**
   * Some layers (slidingLayers) attend only to their last W keys: Mistral's every layer, and Qwen2/3's
   * or SmolLM3's that use_sliding_window or layer_types name. Both are set, or neither.
   */
  slidingWindow?: number;
  slidingLayers?: number[];
  /** SmolLM3: the layers that use no positional encoding at all (NoPE): their q and k skip RoPE. */
  nopeLayers?: number[];
  /** RoPE base of the sliding layers where it differs from ropeTheta (Gemma 3's rope_local_base_freq). */
  localRopeTheta?: number;
  /**
   * Gemma 2 and 3. Every RMSNorm scales by (1 + weight); the token embeddings are multiplied by √C; q·k
   * is scaled by query_pre_attn_scalar^-½; and each sublayer's output is RMS-normalised before its
   * residual add (post_attention_layernorm, post_feedforward_layernorm), the MLP's input by
   * pre_feedforward_layernorm. Gemma 2 soft-caps the scaled scores (cap·tanh(s / cap)) and the logits.
   */
  gemma?: { embedScale: number; attentionScale: number; attentionSoftcap?: number; logitSoftcap?: number };
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  /**
   * The checkpoint stores its weights in 16 bits (F16 or BF16): from config.json's torch_dtype (or
   * dtype) until the weight files are opened, then from the files themselves (checkpoint.ts).
   */
  halfWeights?: true;
  /**
   * A run's choice, not the checkpoint's: the decoder layers' frozen projection matrices load quantized
   * to 4-bit NormalFloat, as QLoRA loads them (bitsandbytes' load_in_4bit, nf4; weight-storage.ts).
   */
  baseQuantization?: 'nf4';
}

/** The config with its frozen layer matrices quantized as asked (or not, without `quantization`). */
export function withBaseQuantization(config: DecoderConfig, quantization?: 'nf4'): DecoderConfig {
  const quantized: DecoderConfig = { ...config };
  delete quantized.baseQuantization;
  if (quantization) quantized.baseQuantization = quantization;
  return quantized;
}

/** The config with `halfWeights` as the weight files have it, whatever config.json's torch_dtype said. */
export function withStoredPrecision(config: DecoderConfig, halfWeights: boolean): DecoderConfig {
  const stored: DecoderConfig = { ...config };
  delete stored.halfWeights;
  if (halfWeights) stored.halfWeights = true;
  return stored;
}

/** transformers' model_type of each architecture: config.json's model_type, and PEFT's table key. */
export const decoderModelTypes = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  MistralForCausalLM: 'mistral',
  SmolLM3ForCausalLM: 'smollm3',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3_text',
  GPT2LMHeadModel: 'gpt2',
} as const satisfies Record<Architecture, string>;
export type DecoderModelType = (typeof decoderModelTypes)[Architecture];

const architectureByModelType = new Map<string, Architecture>(
  Object.entries(decoderModelTypes).map(([architecture, type]) => [type, architecture as Architecture]),
);

export function architectureOf(json: Json): string {
  const listed = Array.isArray(json.architectures) ? json.architectures[0] : undefined;
  if (typeof listed === 'string') return listed;
  const modelType = typeof json.model_type === 'string' ? json.model_type : 'an unknown model type';
  return architectureByModelType.get(modelType) ?? modelType;
}

/**
 * A quantized checkpoint (GPTQ, AWQ, bitsandbytes, FP8: config.json's quantization_config) stores packed
 * integers and scales in place of the weights; said once, by name, rather than as a list of missing tensors.
 */
export function refuseQuantized(json: Json): void {
  const quantization = json.quantization_config;
  if (quantization == null) return;
  const method = (quantization as Json).quant_method;
  throw new ModelConfigError(
    `config.json: this checkpoint is quantized (${typeof method === 'string' ? method : 'quantization_config'}); Whetstone trains F32, F16 or BF16 weights. Use the model's unquantized repo.`,
  );
}

export function parseModelConfig(raw: unknown): DecoderConfig {
  if (typeof raw !== 'object' || raw === null)
    throw new ModelConfigError('config.json must hold a JSON object.');
  const json = raw as Json;
  refuseQuantized(json);
  const architecture = architectureOf(json);
  if (!(supportedArchitectures as readonly string[]).includes(architecture)) {
    throw new UnsupportedArchitectureError(architecture);
  }
  if (architecture === 'GPT2LMHeadModel') return gpt2Config(json);
  if (architecture === 'Gemma2ForCausalLM' || architecture === 'Gemma3ForCausalLM')
    return gemmaConfig(json, architecture);
  return llamaConfig(json, architecture as Architecture);
}

function llamaConfig(json: Json, architecture: Architecture): DecoderConfig {
  const C = int(json, 'hidden_size');
  const NH = int(json, 'num_attention_heads');
  const KV = int(json, 'num_key_value_heads', NH);
  const isQwen3 = architecture === 'Qwen3ForCausalLM';
  // Qwen3Config's head_dim defaults to 128 whatever the width; the others derive it.
  const D = json.head_dim == null ? (isQwen3 ? 128 : C / NH) : int(json, 'head_dim');
  if (!Number.isInteger(D))
    throw new ModelConfigError(`config.json: hidden_size ${C} is not a multiple of ${NH} heads.`);
  checkHeads(NH, KV, D);
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu')
    throw new ModelConfigError(
      `config.json: hidden_act "${String(act)}" is not supported; Llama-family models use "silu".`,
    );
  const isQwen2 = architecture === 'Qwen2ForCausalLM';
  const attentionBias = json.attention_bias === true;
  const L = int(json, 'num_hidden_layers');
  const nope = nopeLayersOf(json, architecture, L);
  return {
    architecture,
    family: 'llama',
    V: int(json, 'vocab_size'),
    C,
    L,
    NH,
    KV,
    D,
    F: int(json, 'intermediate_size'),
    P: int(json, 'max_position_embeddings', 2048),
    norm: 'rms',
    normEps: num(json, 'rms_norm_eps', 1e-6),
    activation: 'silu',
    positions: 'rope',
    ...rotary(json, architecture === 'SmolLM3ForCausalLM' ? 2e6 : 10000),
    qkvBias: isQwen2 || attentionBias,
    outBias: !isQwen2 && attentionBias,
    mlpBias: json.mlp_bias === true,
    ...(isQwen3 ? { qkNorm: true as const } : {}),
    ...nope,
    ...slidingWindowOf(json, architecture, L, nope.nopeLayers ?? []),
    tieWordEmbeddings: json.tie_word_embeddings === true,
    ...(typeof json.bos_token_id === 'number' ? { bosTokenId: json.bos_token_id } : {}),
    eosTokenIds: tokenIds(json.eos_token_id),
    ...storedPrecision(json),
  };
}

/**
 * The sliding window W and the layers that attend only to their last W keys: every layer of Mistral
 * (MistralConfig's sliding_window, 4096 when absent, null for none); Qwen2 and Qwen3 with
 * use_sliding_window, the layers from max_window_layers (28 by default) on; SmolLM3 with
 * use_sliding_window, its NoPE layers; or, in any of these, the layers that layer_types lists as
 * "sliding_attention".
 */
function slidingWindowOf(
  json: Json,
  architecture: Architecture,
  layers: number,
  nopeLayers: number[],
): { slidingWindow?: number; slidingLayers?: number[] } {
  const window = (sliding: (layer: number) => boolean, fallback?: number) =>
    slidingWindowFields(json, layers, sliding, fallback);
  if (architecture === 'MistralForCausalLM') return window(() => true, 4096);
  if (!['Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'SmolLM3ForCausalLM'].includes(architecture)) return {};
  const listed = listedSlidingLayers(json, layers);
  if (listed) return window(listed);
  if (json.use_sliding_window !== true) return {};
  if (architecture === 'SmolLM3ForCausalLM') return window((i) => nopeLayers.includes(i));
  const firstSliding = typeof json.max_window_layers === 'number' ? json.max_window_layers : 28;
  return window((i) => i >= firstSliding);
}

/** The sliding window of `layer`'s attention, or undefined where it sees every earlier key. */
export function slidingWindowAt(c: DecoderConfig, layer: number): number | undefined {
  return c.slidingLayers?.includes(layer) ? c.slidingWindow : undefined;
}

/**
 * SmolLM3's NoPE layers: no_rope_layers holds 1 for a layer with RoPE and 0 for one without; absent, every
 * no_rope_layer_interval-th layer (4 by default) goes without (SmolLM3Config.__post_init__).
 */
function nopeLayersOf(json: Json, architecture: Architecture, layers: number): { nopeLayers?: number[] } {
  if (architecture !== 'SmolLM3ForCausalLM') return {};
  const listed = json.no_rope_layers;
  if (listed != null && (!Array.isArray(listed) || listed.length < layers))
    throw new ModelConfigError(
      `config.json: "no_rope_layers" must list a 0 or 1 for each of the ${layers} layers.`,
    );
  const interval = int(json, 'no_rope_layer_interval', 4);
  const usesRope = (i: number) => (Array.isArray(listed) ? listed[i] !== 0 : (i + 1) % interval !== 0);
  const nope = Array.from({ length: layers }, (_, i) => i).filter((i) => !usesRope(i));
  return nope.length > 0 ? { nopeLayers: nope } : {};
}

function gpt2Config(json: Json): DecoderConfig {
  const C = int(json, 'n_embd');
  const NH = int(json, 'n_head');
  if (C % NH !== 0) throw new ModelConfigError(`config.json: n_embd ${C} is not a multiple of n_head ${NH}.`);
  const act = json.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    throw new ModelConfigError(
      `config.json: activation_function "${String(act)}" is not supported (supported: gelu_new).`,
    );
  }
  return {
    architecture: 'GPT2LMHeadModel',
    family: 'gpt2',
    V: int(json, 'vocab_size'),
    C,
    L: int(json, 'n_layer'),
    NH,
    KV: NH,
    D: C / NH,
    F: json.n_inner == null ? 4 * C : int(json, 'n_inner'),
    P: int(json, 'n_positions', 1024),
    norm: 'layer',
    normEps: num(json, 'layer_norm_epsilon', 1e-5),
    activation: 'gelu_new',
    positions: 'learned',
    ropeTheta: 0,
    qkvBias: true,
    outBias: true,
    mlpBias: true,
    tieWordEmbeddings: json.tie_word_embeddings !== false,
    ...(typeof json.bos_token_id === 'number' ? { bosTokenId: json.bos_token_id } : {}),
    eosTokenIds: tokenIds(json.eos_token_id),
    ...storedPrecision(json),
  };
}
