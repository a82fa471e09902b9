/**
 * The encoder run's refusal before upload, from the memory plan: a buffer over the device's per-buffer
 * limit and a run over its memory budget are refused by name (ModelTooLargeError) with what to change,
 * the figure called an estimate; a tiny run passes and returns its plan; a run's MethodSpec plans as
 * the method it builds.
 */
import { describe, expect, it } from 'vitest';
import { tinyEncoderConfigJson } from '../fixtures/tiny-encoders';
import { parseEncoderConfig } from '../models/bert-config';
import { planEncoderMemory } from '../plan/encoder-plan';
import { checkEncoderRunMemory, encoderMethodSettings } from './classifier-memory';

const config = parseEncoderConfig(tinyEncoderConfigJson({ family: 'bert' }, 100, 0));
const roomy = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
const run = { B: 16, T: 32 };

describe('checkEncoderRunMemory', () => {
  it('passes a tiny run and returns the plan it checked', () => {
    const plan = checkEncoderRunMemory(config, { method: 'full' }, run, roomy);
    expect(plan.totalBytes).toBe(
      planEncoderMemory(config, { method: 'full' }, { batchSize: 16, seqLen: 32 }).totalBytes,
    );
  });

  it('refuses a buffer over the per-buffer limit, naming it and what to change', () => {
    // The largest step buffer is [N, F] = [256, 48] floats (48 KiB); the weights are far smaller. (At 512
    // tokens and more the 8 MiB split-K workspace would be, which every WebGPU device's 128 MiB takes.)
    const small = { maxStorageBufferBindingSize: 32 * 1024, maxBufferSize: 2 ** 28 };
    expect(() => checkEncoderRunMemory(config, { method: 'full' }, { B: 8, T: 32 }, small)).toThrowError(
      expect.objectContaining({
        name: 'ModelTooLargeError',
        message: expect.stringMatching(
          /full classification run \(batch 8 × 32 tokens\) does not fit: its largest buffer \(.*48\.0 KiB\) is over this GPU's 32\.0 KiB per buffer\. To fit, lower the batch size \(8 now\) or the sequence length \(32 now\)/,
        ),
      }),
    );
  });

  it('refuses a run over its memory budget, saying the figure is an estimate', () => {
    expect(() =>
      checkEncoderRunMemory(config, { method: 'full' }, { ...run, memoryBudgetBytes: 100_000 }, roomy),
    ).toThrowError(
      expect.objectContaining({
        name: 'ModelTooLargeError',
        message: expect.stringMatching(/needs about .* \(an estimate\), over the 97\.7 KiB budget/),
      }),
    );
  });

  it('plans a MethodSpec as the method it builds', () => {
    expect(
      encoderMethodSettings({ method: 'lora', r: 4, alpha: 8, dropout: 0.1, targetModules: ['query'] }),
    ).toEqual({ method: 'lora', r: 4, dropout: 0.1, targetModules: ['query'] });
    expect(encoderMethodSettings({ method: 'adapter', reductionFactor: 4 })).toEqual({
      method: 'adapter',
      reductionFactor: 4,
    });
    expect(encoderMethodSettings({ method: 'prefix', numVirtualTokens: 3 })).toEqual({
      method: 'prefix',
      numVirtualTokens: 3,
      prefixProjection: false,
    });
  });
});
