import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkWeights } from './check-weights';
import { parseModelConfig } from './config';
import { ModelConfigError, UnsupportedArchitectureError } from './errors';
import { expectedWeights } from './weight-shapes';

const fixtures = new URL('../../../../shared/hf-fixtures/', import.meta.url).pathname;
const fixture = (path: string) => JSON.parse(readFileSync(fixtures + path, 'utf8'));
const haveFixtures = existsSync(fixtures);

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

  it('reads 16-bit storage from torch_dtype (or dtype), and nothing else as 16-bit', () => {
    expect(parseModelConfig({ ...tinyLlama, torch_dtype: 'bfloat16' }).halfWeights).toBe(true);
    expect(parseModelConfig({ ...tinyLlama, dtype: 'float16' }).halfWeights).toBe(true);
    expect(parseModelConfig({ ...tinyLlama, torch_dtype: 'float32' }).halfWeights).toBeUndefined();
    expect(parseModelConfig(tinyLlama).halfWeights).toBeUndefined();
  });

  it('names an unsupported architecture and lists the supported ones', () => {
    expect(() => parseModelConfig({ architectures: ['MistralForCausalLM'] })).toThrow(
      UnsupportedArchitectureError,
    );
    expect(() => parseModelConfig({ architectures: ['MistralForCausalLM'] })).toThrow(
      /MistralForCausalLM.*Supported architectures: LlamaForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel/,
    );
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
