import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEncoderConfig } from './bert-config';
import { checkWeights } from './check-weights';
import { parseModelConfig, slidingWindowAt } from './config';
import { ModelConfigError, UnsupportedArchitectureError } from './errors';
import { longestRow, type RowLimit, rowTokenLimit, rowTooLong } from './row-limit';
import { expectedWeights } from './weight-shapes';

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;
const fixture = (path: string) => JSON.parse(readFileSync(fixtures + path, 'utf8'));
const haveFixtures = existsSync(fixtures);

/** A tiny Llama config whose architecture comes from model_type alone, as some configs give it. */
const architectureOnly = (modelType: string) => {
  const { architectures: _, ...rest } = tinyLlama;
  return { ...rest, model_type: modelType, head_dim: 8 };
};

const tinyLlama = {
  architectures: ['LlamaForCausalLM'],
  hidden_size: 32,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  num_hidden_layers: 2,
  intermediate_size: 48,
  vocab_size: 101,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
  eos_token_id: 2,
};

describe('model config', () => {
  it('reads a Llama config with GQA, defaults and tied embeddings', () => {
    const c = parseModelConfig(tinyLlama);
    expect(c).toMatchObject({
      family: 'llama',
      C: 32,
      NH: 4,
      KV: 2,
      D: 8,
      F: 48,
      L: 2,
      V: 101,
      ropeTheta: 10000,
    });
    expect(c).toMatchObject({ qkvBias: false, tieWordEmbeddings: true, eosTokenIds: [2] });
    expect(expectedWeights(c).get('model.layers.1.self_attn.k_proj.weight')).toEqual([16, 32]);
    expect(expectedWeights(c).has('lm_head.weight')).toBe(false);
  });

  it('reads Llama-3 rope scaling and refuses other scaling types', () => {
    const scaled = {
      ...tinyLlama,
      rope_theta: 500000,
      rope_scaling: { rope_type: 'llama3', factor: 8, original_max_position_embeddings: 8192 },
    };
    expect(parseModelConfig(scaled).ropeScaling).toEqual({
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 8192,
    });
    expect(() => parseModelConfig({ ...tinyLlama, rope_scaling: { type: 'yarn', factor: 4 } })).toThrow(
      /"yarn" is not supported/,
    );
  });

  it('reads RoPE from transformers v5 rope_parameters as from the older rope_theta and rope_scaling', () => {
    const scaling = {
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    };
    // Llama-3.2-1B as transformers 4.x and 5 save it.
    const legacy = { ...tinyLlama, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', ...scaling } };
    const v5 = {
      ...tinyLlama,
      dtype: 'bfloat16',
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...scaling },
    };
    expect(parseModelConfig(v5)).toEqual({ ...parseModelConfig(legacy), halfWeights: true });
    expect(parseModelConfig(v5)).toMatchObject({
      ropeTheta: 500000,
      ropeScaling: { factor: 32, originalMaxPositions: 8192 },
    });
    // Qwen-style: default RoPE with its own base, no scaling.
    const qwen = parseModelConfig({
      ...tinyLlama,
      rope_parameters: { rope_type: 'default', rope_theta: 1000000 },
    });
    expect(qwen.ropeTheta).toBe(1000000);
    expect(qwen.ropeScaling).toBeUndefined();
    expect(parseModelConfig(tinyLlama).ropeTheta).toBe(10000);
    expect(() =>
      parseModelConfig({ ...tinyLlama, rope_parameters: { rope_type: 'yarn', rope_theta: 1e6, factor: 4 } }),
    ).toThrow(/RoPE type "yarn" is not supported \(supported: default, llama3\)/);
    expect(() => parseModelConfig({ ...tinyLlama, rope_parameters: 5 })).toThrow(
      /"rope_parameters" must be an object/,
    );
    // RoPE over part of each head would silently be run over all of it.
    expect(() => parseModelConfig({ ...tinyLlama, partial_rotary_factor: 0.5 })).toThrow(
      /partial_rotary_factor 0.5/,
    );
    const partial = { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.75 };
    expect(() => parseModelConfig({ ...tinyLlama, rope_parameters: partial })).toThrow(/not supported/);
  });

  it('reads 16-bit storage from torch_dtype (or dtype), and nothing else as 16-bit', () => {
    expect(parseModelConfig({ ...tinyLlama, torch_dtype: 'bfloat16' }).halfWeights).toBe(true);
    expect(parseModelConfig({ ...tinyLlama, dtype: 'float16' }).halfWeights).toBe(true);
    expect(parseModelConfig({ ...tinyLlama, torch_dtype: 'float32' }).halfWeights).toBeUndefined();
    expect(parseModelConfig(tinyLlama).halfWeights).toBeUndefined();
  });

  it('reads a Qwen3 config: per-head q/k norms, head_dim apart from the width, no biases by default', () => {
    // Shaped as Qwen3-0.6B is (16 heads of 128 over a width of 1024), smaller: 4 heads of 32 over 64.
    const qwen3 = {
      ...tinyLlama,
      architectures: ['Qwen3ForCausalLM'],
      hidden_size: 64,
      head_dim: 32,
      attention_bias: false,
      use_sliding_window: false,
      sliding_window: null,
    };
    const c = parseModelConfig(qwen3);
    expect(c).toMatchObject({ family: 'llama', C: 64, NH: 4, KV: 2, D: 32, qkNorm: true });
    expect(c).toMatchObject({ qkvBias: false, outBias: false, tieWordEmbeddings: true });
    const weights = expectedWeights(c);
    expect(weights.get('model.layers.1.self_attn.q_norm.weight')).toEqual([32]);
    expect(weights.get('model.layers.1.self_attn.k_norm.weight')).toEqual([32]);
    expect(weights.get('model.layers.0.self_attn.q_proj.weight')).toEqual([128, 64]);
    expect(weights.get('model.layers.0.self_attn.o_proj.weight')).toEqual([64, 128]);
    // Qwen3Config's head_dim defaults to 128, not width / heads; attention_bias puts biases on q, k, v and o.
    const { head_dim: _, ...withoutHeadDim } = qwen3;
    expect(parseModelConfig({ ...withoutHeadDim, hidden_size: 512 }).D).toBe(128);
    expect(parseModelConfig({ ...qwen3, attention_bias: true })).toMatchObject({
      qkvBias: true,
      outBias: true,
    });
    // Llama and Qwen2 have no per-head norms.
    expect(parseModelConfig(tinyLlama).qkNorm).toBeUndefined();
    expect(parseModelConfig(architectureOnly('qwen3')).architecture).toBe('Qwen3ForCausalLM');
  });

  it('reads which layers slide: Mistral all, Qwen2/3 from max_window_layers or by layer_types', () => {
    const mistral = { ...tinyLlama, architectures: ['MistralForCausalLM'] };
    // MistralConfig's default window is 4096; v0.3 and later write null (no window).
    expect(parseModelConfig(mistral)).toMatchObject({
      architecture: 'MistralForCausalLM',
      slidingWindow: 4096,
      slidingLayers: [0, 1],
    });
    expect(parseModelConfig({ ...mistral, sliding_window: 32 }).slidingWindow).toBe(32);
    const none = parseModelConfig({ ...mistral, sliding_window: null });
    expect([none.slidingWindow, none.slidingLayers]).toEqual([undefined, undefined]);
    expect(parseModelConfig({ ...mistral, sliding_window: 32 })).toMatchObject({
      qkvBias: false,
      outBias: false,
    });
    // Qwen2.5 configs carry sliding_window with use_sliding_window false: no layer slides.
    const qwen2 = {
      ...tinyLlama,
      architectures: ['Qwen2ForCausalLM'],
      sliding_window: 4096,
      max_window_layers: 1,
    };
    expect(parseModelConfig({ ...qwen2, use_sliding_window: false }).slidingWindow).toBeUndefined();
    const fromLayer1 = parseModelConfig({ ...qwen2, use_sliding_window: true });
    expect(fromLayer1).toMatchObject({ slidingWindow: 4096, slidingLayers: [1] });
    expect([slidingWindowAt(fromLayer1, 0), slidingWindowAt(fromLayer1, 1)]).toEqual([undefined, 4096]);
    // Layers from max_window_layers (28 when absent, as in Qwen2Config) on slide; past the last, none does.
    expect(
      parseModelConfig({ ...qwen2, use_sliding_window: true, max_window_layers: 2 }).slidingWindow,
    ).toBeUndefined();
    const { max_window_layers: _, ...defaultFirst } = qwen2;
    expect(parseModelConfig({ ...defaultFirst, use_sliding_window: true }).slidingWindow).toBeUndefined();
    const layerTypes = ['sliding_attention', 'full_attention'];
    const qwen3 = { ...tinyLlama, architectures: ['Qwen3ForCausalLM'], sliding_window: 64, head_dim: 8 };
    expect(parseModelConfig({ ...qwen3, layer_types: layerTypes })).toMatchObject({
      slidingWindow: 64,
      slidingLayers: [0],
    });
    expect(() => parseModelConfig({ ...qwen3, layer_types: ['full_attention'] })).toThrow(
      /"layer_types" must name the attention of each of the 2 layers/,
    );
    expect(parseModelConfig(tinyLlama).slidingWindow).toBeUndefined();
  });

  it('limits rows only where the model must: learned positions, not a sliding window', () => {
    const mistral = parseModelConfig({
      ...tinyLlama,
      architectures: ['MistralForCausalLM'],
      sliding_window: 32,
    });
    expect(rowTokenLimit(mistral)).toBeUndefined();
    // max_position_embeddings (2048 by default) bounds what the studio offers, but is no hard limit.
    expect(rowTokenLimit(parseModelConfig(tinyLlama))).toBeUndefined();
    expect(longestRow(parseModelConfig(tinyLlama))).toBe(2048);
    expect(longestRow(mistral)).toBe(2048);
    const gpt2 = parseModelConfig({
      architectures: ['GPT2LMHeadModel'],
      n_embd: 32,
      n_head: 4,
      n_layer: 1,
      vocab_size: 50,
      n_positions: 64,
    });
    expect(rowTokenLimit(gpt2)).toEqual({ tokens: 64, why: 'GPT2LMHeadModel has 64 learned positions' });
    expect(rowTooLong(rowTokenLimit(gpt2) as RowLimit, 70).message).toBe(
      'GPT2LMHeadModel has 64 learned positions; this step holds 70 tokens per row.',
    );
  });

  it('reads SmolLM3: NoPE every fourth layer unless no_rope_layers says which, a base of 2e6 by default', () => {
    const smollm3 = { ...tinyLlama, architectures: ['SmolLM3ForCausalLM'], num_hidden_layers: 8 };
    expect(parseModelConfig(smollm3)).toMatchObject({ nopeLayers: [3, 7], ropeTheta: 2e6 });
    expect(parseModelConfig({ ...smollm3, no_rope_layer_interval: 2 }).nopeLayers).toEqual([1, 3, 5, 7]);
    const listed = { ...smollm3, no_rope_layers: [1, 0, 1, 1, 1, 1, 1, 0], rope_theta: 5e6 };
    expect(parseModelConfig(listed)).toMatchObject({ nopeLayers: [1, 7], ropeTheta: 5e6 });
    expect(parseModelConfig({ ...listed, no_rope_layers: Array(8).fill(1) }).nopeLayers).toBeUndefined();
    expect(() => parseModelConfig({ ...smollm3, no_rope_layers: [1, 0] })).toThrow(
      /a 0 or 1 for each of the 8 layers/,
    );
    // Llama-family models rotate every layer.
    expect(parseModelConfig(tinyLlama).nopeLayers).toBeUndefined();
    // use_sliding_window puts its NoPE layers on the window.
    expect(parseModelConfig({ ...smollm3, use_sliding_window: true, sliding_window: 64 })).toMatchObject({
      slidingWindow: 64,
      slidingLayers: [3, 7],
    });
  });

  it('names an unsupported architecture and lists the supported ones', () => {
    expect(() => parseModelConfig({ architectures: ['Phi3ForCausalLM'] })).toThrow(
      UnsupportedArchitectureError,
    );
    expect(() => parseModelConfig({ architectures: ['Phi3ForCausalLM'] })).toThrow(
      /Phi3ForCausalLM.*Supported architectures: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, SmolLM3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, GPT2LMHeadModel/,
    );
  });

  it('refuses a quantized checkpoint by its method', () => {
    const gptq = { ...tinyLlama, quantization_config: { quant_method: 'gptq', bits: 4 } };
    expect(() => parseModelConfig(gptq)).toThrow(
      /this checkpoint is quantized \(gptq\); Whetstone trains F32, F16 or BF16 weights/,
    );
    const bert = { architectures: ['BertModel'], vocab_size: 10, hidden_size: 8, num_hidden_layers: 1 };
    const quantizedBert = {
      ...bert,
      num_attention_heads: 2,
      quantization_config: { quant_method: 'bitsandbytes' },
    };
    expect(() => parseEncoderConfig(quantizedBert)).toThrow(/quantized \(bitsandbytes\)/);
  });

  it('says which field is wrong', () => {
    expect(() => parseModelConfig({ ...tinyLlama, num_key_value_heads: 3 })).toThrow(
      /4 attention heads are not a multiple of 3/,
    );
    expect(() => parseModelConfig({ ...tinyLlama, hidden_size: 'big' })).toThrow(ModelConfigError);
  });

  it('reports missing, misshapen and unknown tensors together', () => {
    const c = parseModelConfig({ ...tinyLlama, num_hidden_layers: 1 });
    const stored = [...expectedWeights(c)].map(([name, shape]) => ({
      name,
      shape,
      file: 'model.safetensors',
    }));
    expect(checkWeights(c, stored).size).toBe(stored.length);
    const broken = stored.filter((t) => t.name !== 'model.norm.weight');
    (broken[0] as { shape: number[] }).shape = [100, 32];
    broken.push({ name: 'model.layers.0.extra', shape: [1], file: 'model.safetensors' });
    expect(() => checkWeights(c, broken)).toThrow(
      /missing 1 tensor\(s\): model\.norm\.weight[\s\S]*model\.embed_tokens\.weight in model\.safetensors is \[100, 32\], but config\.json implies \[101, 32\][\s\S]*model\.layers\.0\.extra/,
    );
  });
});

describe.runIf(haveFixtures)('real Hugging Face configs (../shared/hf-fixtures)', () => {
  it('GPT-2', () => {
    const c = parseModelConfig(fixture('gpt2/config.json'));
    expect(c).toMatchObject({
      family: 'gpt2',
      V: 50257,
      C: 768,
      L: 12,
      NH: 12,
      D: 64,
      F: 3072,
      P: 1024,
      tieWordEmbeddings: true,
    });
    expect(expectedWeights(c).get('h.0.attn.c_attn.weight')).toEqual([768, 2304]);
  });

  it('Qwen2.5-0.5B-Instruct: 14 heads over 2 key/value heads, q/k/v biases', () => {
    const c = parseModelConfig(fixture('qwen2.5-0.5b-instruct/not-exact/config.json'));
    expect(c).toMatchObject({
      architecture: 'Qwen2ForCausalLM',
      NH: 14,
      KV: 2,
      D: 64,
      qkvBias: true,
      outBias: false,
      tieWordEmbeddings: true,
    });
  });

  it('TinyLlama-1.1B-Chat', () => {
    const c = parseModelConfig(fixture('tinyllama-1.1b-chat-v1.0/not-exact/config.json'));
    expect(c).toMatchObject({ C: 2048, NH: 32, KV: 4, L: 22, F: 5632, V: 32000, tieWordEmbeddings: false });
  });

  it('BERT is refused by name, for now', () => {
    expect(() => parseModelConfig(fixture('bert-base-uncased/config.json'))).toThrow(/BertForMaskedLM/);
  });
});
