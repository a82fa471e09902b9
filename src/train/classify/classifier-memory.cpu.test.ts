/**
 * The encoder run's refusal before upload: a tensor over the device's per-buffer limit and a run over its
 * memory budget are refused by name (ModelTooLargeError) with what to change; a tiny run passes.
 */
import { describe, expect, it } from 'vitest';
import { tinyEncoderConfigJson } from '../fixtures/tiny-encoders';
import { parseEncoderConfig } from '../models/bert-config';
import { checkEncoderRunMemory } from './classifier-memory';

const config = parseEncoderConfig(tinyEncoderConfigJson({ family: 'bert' }, 100, 0));
const roomy = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
const run = { B: 16, T: 32, baseParams: 50_000, trainableParams: 50_000 };

describe('checkEncoderRunMemory', () => {
  it('passes a tiny run', () => {
    expect(() => checkEncoderRunMemory(config, run, roomy)).not.toThrow();
  });

  it('refuses a tensor over the per-buffer limit, naming it', () => {
    // Attention scores [B·NH, T, T]: 16·4·32·32·4 bytes = 256 KiB, over a 200 KiB buffer limit; the
    // feed-forward activations [B·T, 3C] (192 KiB) fit.
    const small = { maxStorageBufferBindingSize: 200 * 1024, maxBufferSize: 2 ** 28 };
    expect(() => checkEncoderRunMemory(config, run, small)).toThrowError(
      expect.objectContaining({
        name: 'ModelTooLargeError',
        message: expect.stringContaining('the attention scores need 0.25 MiB'),
      }),
    );
  });

  it('refuses a run over its memory budget, saying the figure is an estimate', () => {
    expect(() => checkEncoderRunMemory(config, { ...run, memoryBudgetBytes: 100_000 }, roomy)).toThrowError(
      expect.objectContaining({
        name: 'ModelTooLargeError',
        message: expect.stringContaining('an estimated'),
      }),
    );
  });
});
