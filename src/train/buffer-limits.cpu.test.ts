import { describe, expect, it } from 'vitest';
import { checkBufferLimits, ModelTooLargeError } from './buffer-limits';
import { parseModelConfig } from './models/config';

// Qwen2.5-0.5B's shape: V = 151936, C = 896.
const qwen = parseModelConfig({
  architectures: ['Qwen2ForCausalLM'],
  vocab_size: 151936,
  hidden_size: 896,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  num_hidden_layers: 24,
  intermediate_size: 4864,
});
const gib = 2 ** 30;

describe('buffer limits before a run starts', () => {
  it('passes a run whose largest tensor fits', () => {
    expect(() =>
      checkBufferLimits(qwen, { B: 1, T: 512 }, { maxStorageBufferBindingSize: gib, maxBufferSize: gib }),
    ).not.toThrow();
  });

  it('refuses logits larger than one buffer and says what to change', () => {
    // 8 × 1024 tokens × 151936 words × 4 bytes ≈ 4.6 GiB of logits.
    expect(() =>
      checkBufferLimits(
        qwen,
        { B: 8, T: 1024 },
        { maxStorageBufferBindingSize: 2 * gib, maxBufferSize: 4 * gib },
      ),
    ).toThrow(ModelTooLargeError);
    expect(() =>
      checkBufferLimits(
        qwen,
        { B: 8, T: 1024 },
        { maxStorageBufferBindingSize: 2 * gib, maxBufferSize: 4 * gib },
      ),
    ).toThrow(
      /the logits need 4\.64 GiB in one buffer.*at most 2\.00 GiB per buffer.*lower the batch size or the sequence length \(batch 8 × 1024 tokens now\)/,
    );
  });

  it('refuses an embedding table larger than one buffer', () => {
    expect(() =>
      checkBufferLimits(
        qwen,
        { B: 1, T: 8 },
        { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: gib },
      ),
    ).toThrow(/the embedding table need 0\.51 GiB.*choose a smaller model/);
  });
});
