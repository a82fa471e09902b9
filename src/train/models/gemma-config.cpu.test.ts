/**
 * Gemma 2's and Gemma 3's config.json (gemma-config.ts): the hub configs of gemma-3-270m and gemma-2-2b,
 * Gemma 3 1B's derived layer types, transformers v5's RoPE per layer type, and what is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { parseModelConfig, slidingWindowAt } from './config';

describe('Gemma configs', () => {
  it("reads Gemma 3 (gemma-3-270m's config): its layers' windows and RoPE bases, and Gemma's scales", () => {
    const layerTypes = Array.from({ length: 18 }, (_, i) =>
      (i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention',
    );
    const gemma270m = {
      _sliding_window_pattern: 6,
      architectures: ['Gemma3ForCausalLM'],
      attention_bias: false,
      attn_logit_softcapping: null,
      bos_token_id: 2,
      eos_token_id: 1,
      final_logit_softcapping: null,
      head_dim: 256,
      hidden_activation: 'gelu_pytorch_tanh',
      hidden_size: 640,
      intermediate_size: 2048,
      layer_types: layerTypes,
      max_position_embeddings: 32768,
      model_type: 'gemma3_text',
      num_attention_heads: 4,
      num_hidden_layers: 18,
      num_key_value_heads: 1,
      query_pre_attn_scalar: 256,
      rms_norm_eps: 1e-6,
      rope_local_base_freq: 10000.0,
      rope_scaling: null,
      rope_theta: 1000000.0,
      sliding_window: 512,
      torch_dtype: 'bfloat16',
      use_bidirectional_attention: false,
      vocab_size: 262144,
    };
    const c = parseModelConfig(gemma270m);
    expect(c).toMatchObject({
      architecture: 'Gemma3ForCausalLM',
      V: 262144,
      C: 640,
      L: 18,
      NH: 4,
      KV: 1,
      D: 256,
      F: 2048,
      activation: 'gelu_tanh',
      ropeTheta: 1e6,
      localRopeTheta: 1e4,
      qkNorm: true,
      qkvBias: false,
      slidingWindow: 512,
      tieWordEmbeddings: true,
      bosTokenId: 2,
      eosTokenIds: [1],
      halfWeights: true,
      // √640 as an f32 (Gemma3TextScaledWordEmbedding in f32); 256^-½.
      gemma: { embedScale: 25.298221588134766, attentionScale: 0.0625 },
    });
    expect([5, 11, 17].map((i) => slidingWindowAt(c, i))).toEqual([undefined, undefined, undefined]);
    expect(c.slidingLayers).toHaveLength(15);
    // Gemma-3-1B's config has no layer_types: every sliding_window_pattern-th layer (6) is full.
    const { layer_types: _, ...noTypes } = gemma270m;
    const derived = parseModelConfig({ ...noTypes, num_hidden_layers: 26, sliding_window_pattern: 6 });
    expect(
      Array.from({ length: 26 }, (_, i) => i).filter((i) => slidingWindowAt(derived, i) === undefined),
    ).toEqual([5, 11, 17, 23]);
    // transformers v5 writes the two bases as rope_parameters per layer type, and drops the old keys.
    const { rope_theta: _t, rope_local_base_freq: _l, rope_scaling: _s, ...v4Free } = gemma270m;
    const v5 = parseModelConfig({
      ...v4Free,
      rope_parameters: {
        full_attention: { rope_type: 'default', rope_theta: 1e6 },
        sliding_attention: { rope_type: 'default', rope_theta: 1e4 },
      },
    });
    expect([v5.ropeTheta, v5.localRopeTheta]).toEqual([1e6, 1e4]);
    // attn_logit_softcapping is ignored as Gemma3Attention ignores it; a final cap and bidirectional
    // attention (EmbeddingGemma) are refused by name.
    expect(parseModelConfig({ ...gemma270m, attn_logit_softcapping: 50 }).gemma).toEqual(c.gemma);
    expect(() => parseModelConfig({ ...gemma270m, final_logit_softcapping: 30 })).toThrow(
      /final_logit_softcapping 30 is not supported for Gemma 3/,
    );
    expect(() => parseModelConfig({ ...gemma270m, use_bidirectional_attention: true })).toThrow(
      /use_bidirectional_attention \(an embedding model\) is not supported/,
    );
    expect(() => parseModelConfig({ ...gemma270m, hidden_activation: 'relu' })).toThrow(
      /hidden_activation "relu" is not supported/,
    );
    expect(parseModelConfig({ model_type: 'gemma3_text' }).architecture).toBe('Gemma3ForCausalLM');
  });

  it("reads Gemma 2 (gemma-2-2b's config): alternate sliding layers, and its soft-caps", () => {
    const gemma2b = {
      architectures: ['Gemma2ForCausalLM'],
      model_type: 'gemma2',
      attn_logit_softcapping: 50.0,
      final_logit_softcapping: 30.0,
      head_dim: 256,
      hidden_activation: 'gelu_pytorch_tanh',
      hidden_size: 2304,
      intermediate_size: 9216,
      max_position_embeddings: 8192,
      num_attention_heads: 8,
      num_hidden_layers: 26,
      num_key_value_heads: 4,
      query_pre_attn_scalar: 256,
      rms_norm_eps: 1e-6,
      rope_theta: 10000.0,
      sliding_window: 4096,
      torch_dtype: 'float32',
      vocab_size: 256000,
    };
    const c = parseModelConfig(gemma2b);
    expect(c).toMatchObject({
      architecture: 'Gemma2ForCausalLM',
      V: 256000,
      D: 256,
      activation: 'gelu_tanh',
      ropeTheta: 1e4,
      slidingWindow: 4096,
      tieWordEmbeddings: true,
      gemma: { embedScale: Math.fround(48), attentionScale: 0.0625, attentionSoftcap: 50, logitSoftcap: 30 },
    });
    // No per-head norms and one RoPE base; layer 0 slides, layer 1 attends in full, and so on.
    expect([c.qkNorm, c.localRopeTheta]).toEqual([undefined, undefined]);
    expect(c.slidingLayers).toEqual(Array.from({ length: 13 }, (_, i) => 2 * i));
    // Gemma2Config's caps when absent; null turns one off.
    const { attn_logit_softcapping: _a, final_logit_softcapping: _f, ...uncapped } = gemma2b;
    expect(parseModelConfig(uncapped).gemma).toMatchObject({ attentionSoftcap: 50, logitSoftcap: 30 });
    const off = parseModelConfig({ ...gemma2b, final_logit_softcapping: null }).gemma;
    expect([off?.attentionSoftcap, off?.logitSoftcap]).toEqual([50, undefined]);
  });
});
