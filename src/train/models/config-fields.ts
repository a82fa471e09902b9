/**
 * Readers of config.json fields shared by the decoder configs (config.ts, gemma-config.ts): typed
 * numbers with defaults and named errors, token ids, the stored precision, the attention heads' shape,
 * the sliding layers, and RoPE's parameters in either transformers form.
 */
import type { Llama3RopeScaling } from './config';
import { ModelConfigError } from './errors';

export type Json = Record<string, unknown>;

/** torch_dtype (dtype in newer transformers) names how the checkpoint stores its weights. */
export function storedPrecision(json: Json): { halfWeights?: true } {
  const dtype = json.torch_dtype ?? json.dtype;
  return dtype === 'bfloat16' || dtype === 'float16' ? { halfWeights: true } : {};
}

export function int(json: Json, key: string, fallback?: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelConfigError(
      `config.json: "${key}" must be a positive integer, got ${JSON.stringify(json[key])}.`,
    );
  }
  return value;
}

export function num(json: Json, key: string, fallback: number): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelConfigError(`config.json: "${key}" must be a number, got ${JSON.stringify(json[key])}.`);
  }
  return value;
}

export function tokenIds(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** Query heads must share key/value heads evenly, and RoPE rotates pairs of a head's values. */
export function checkHeads(NH: number, KV: number, D: number): void {
  if (NH % KV !== 0)
    throw new ModelConfigError(
      `config.json: ${NH} attention heads are not a multiple of ${KV} key/value heads.`,
    );
  if (D % 2 !== 0)
    throw new ModelConfigError(`config.json: head width ${D} is odd; rotary embeddings need an even width.`);
}

/** Whether each layer is "sliding_attention", where config.json lists layer_types; undefined where not. */
export function listedSlidingLayers(json: Json, layers: number): ((layer: number) => boolean) | undefined {
  if (!Array.isArray(json.layer_types)) return undefined;
  const types = json.layer_types;
  if (types.length < layers)
    throw new ModelConfigError(
      `config.json: "layer_types" must name the attention of each of the ${layers} layers.`,
    );
  return (layer) => types[layer] === 'sliding_attention';
}

/**
 * The window (sliding_window, `fallback` when absent) and the layers that `sliding` picks; neither when
 * sliding_window is null or no layer slides.
 */
export function slidingWindowFields(
  json: Json,
  layers: number,
  sliding: (layer: number) => boolean,
  fallback?: number,
): { slidingWindow?: number; slidingLayers?: number[] } {
  if (json.sliding_window === null) return {};
  const slidingLayers = Array.from({ length: layers }, (_, i) => i).filter(sliding);
  return slidingLayers.length === 0
    ? {}
    : { slidingWindow: int(json, 'sliding_window', fallback), slidingLayers };
}

/**
 * RoPE's base and scaling, as config.json has them in either form: transformers before v5 wrote
 * `rope_theta` and `rope_scaling` at the top level; v5 writes one `rope_parameters` object holding
 * rope_type, rope_theta and the scaling fields (PreTrainedConfig.convert_rope_params_to_dict), and reads
 * the old form into it. Missing, the base is the config class's default_theta (10000; SmolLM3 2e6).
 */
export function rotary(
  json: Json,
  defaultTheta: number,
): { ropeTheta: number; ropeScaling?: Llama3RopeScaling } {
  const parameters = json.rope_parameters;
  if (parameters != null && (typeof parameters !== 'object' || Array.isArray(parameters)))
    throw new ModelConfigError(
      `config.json: "rope_parameters" must be an object, got ${JSON.stringify(parameters)}.`,
    );
  const v5 = (parameters ?? {}) as Json;
  if (v5.full_attention !== undefined || v5.sliding_attention !== undefined)
    throw new ModelConfigError('config.json: RoPE parameters per layer type are not supported.');
  const partial = json.partial_rotary_factor ?? v5.partial_rotary_factor ?? 1;
  if (partial !== 1)
    throw new ModelConfigError(
      `config.json: partial_rotary_factor ${JSON.stringify(partial)} (RoPE on part of each head) is not supported.`,
    );
  const theta = json.rope_theta ?? v5.rope_theta ?? defaultTheta;
  return {
    ropeTheta: num({ rope_theta: theta }, 'rope_theta', defaultTheta),
    // v5 always writes a rope_type; an object without one holds no scaling.
    ...ropeScaling(json.rope_scaling ?? (v5.rope_type === undefined ? undefined : v5)),
  };
}

function ropeScaling(value: unknown): { ropeScaling?: Llama3RopeScaling } {
  if (value == null) return {};
  const s = value as Json;
  const type = s.rope_type ?? s.type;
  if (type === 'default') return {};
  if (type !== 'llama3') {
    throw new ModelConfigError(
      `config.json: RoPE type "${String(type)}" is not supported (supported: default, llama3).`,
    );
  }
  return {
    ropeScaling: {
      factor: num(s, 'factor', 8),
      lowFreqFactor: num(s, 'low_freq_factor', 1),
      highFreqFactor: num(s, 'high_freq_factor', 4),
      originalMaxPositions: int(s, 'original_max_position_embeddings', 8192),
    },
  };
}
