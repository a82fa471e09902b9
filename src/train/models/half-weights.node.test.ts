/**
 * A 16-bit checkpoint's frozen matrices kept in half precision (weight-storage.ts): every method trains
 * as it does with the same weights widened to f32 (the same values, so the same losses to f32 rounding),
 * in less memory; generation gives the same tokens; full fine-tuning still loads f32, and a weight
 * beyond binary16's range keeps its tensor f32 rather than turn infinite.
 */

import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyModelOptions, tinyModelFiles } from '../fixtures/tiny-models';
import { Generator } from '../generate/generator';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { FullFineTuning } from '../peft/full';
import { planMemory } from '../plan/memory-plan';
import type { MethodSettings } from '../plan/method-settings';
import type { DecoderConfig } from './config';
import { createDecoderModel } from './create-model';
import { uploadParams } from './params';
import { trainFourSteps } from './testing/train-four-steps';
import type { WeightUse } from './weight-storage';

/** Four steps of the tiny model loaded for `use`, with the counts this test reads. */
async function train(model: TinyModelOptions, method: MethodSettings, use: WeightUse) {
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles(model)));
  const run = await trainFourSteps(checkpoint, method, use);
  return { ...run, halfTensors: run.dtypes.filter((d) => d === 'f16').length, config: checkpoint.config };
}

describe('a 16-bit checkpoint with its frozen matrices in half precision', () => {
  it.each<[TinyModelOptions['family'], 'F16' | 'BF16', MethodSettings]>([
    ['llama', 'BF16', { method: 'lora', r: 4 }],
    ['gpt2', 'F16', { method: 'lora', r: 4 }],
    ['qwen2', 'BF16', { method: 'dora', r: 4 }],
    ['gpt2', 'BF16', { method: 'ia3' }],
    ['llama', 'F16', { method: 'prompt', numVirtualTokens: 4 }],
    ['gemma3', 'BF16', { method: 'lora', r: 4 }],
  ])(
    '%s %s trains %j as with f32 weights, in less memory, as planned',
    async (family, weightDtype, method) => {
      const model = { family, weightDtype, hiddenSize: 64, intermediateSize: 96 };
      const half = await train(model, method, method.method);
      const widened = await train(model, method, 'full');
      expect(half.halfTensors).toBeGreaterThan(0);
      expect(widened.halfTensors).toBe(0);
      // The same weight values either way: only f32 rounding may differ.
      expect(half.losses).toHaveLength(4);
      for (const [i, loss] of half.losses.entries())
        expect(Math.abs(loss - (widened.losses[i] as number))).toBeLessThan(1e-4 * Math.abs(loss));
      // The matrices hold half the bytes; the norms, biases (and prompt tuning's token table) stay f32.
      expect(half.weightBytes).toBeLessThan(0.7 * widened.weightBytes);
      expect(half.peak).toBeLessThan(widened.peak);
      const plan = planMemory(half.config, method, { batchSize: 2, seqLen: 16 });
      expect(plan.components.weights / half.weightBytes).toBeCloseTo(1, 1);
    },
  );

  it('generates the same greedy tokens as the widened model', async () => {
    const runtime = await testRuntime();
    const files = tinyModelFiles({ family: 'gpt2', weightDtype: 'BF16', seed: 3 });
    const tokens = async (use: WeightUse) => {
      const checkpoint = await openCheckpoint(filesFromMemory(files));
      const generator = new Generator(runtime, await createDecoderModel(runtime, checkpoint, use), 24);
      return generator.generate([72, 101, 108], { maxNewTokens: 8 });
    };
    expect(await tokens('inference')).toEqual(await tokens('full'));
  });

  it('loads f32 for full fine-tuning, and full fine-tuning refuses a model loaded half for a frozen base', async () => {
    const runtime = await testRuntime();
    const checkpoint = await openCheckpoint(
      filesFromMemory(tinyModelFiles({ family: 'llama', weightDtype: 'BF16' })),
    );
    expect(checkpoint.config.halfWeights).toBe(true);
    const full = await createDecoderModel(runtime, checkpoint, 'full');
    expect([...full.params.values()].every((t) => t.dtype === 'f32')).toBe(true);
    const frozen = await createDecoderModel(runtime, checkpoint, 'lora');
    expect(() => new FullFineTuning(runtime, frozen)).toThrow(
      /loaded in half precision.*full fine-tuning trains it in f32/,
    );
  });

  it('keeps f32 for an F32 checkpoint whatever its config says, and for a tensor binary16 cannot hold', async () => {
    const runtime = await testRuntime();
    const f32 = await openCheckpoint(
      filesFromMemory({
        ...tinyModelFiles({ family: 'llama' }),
        'config.json': JSON.stringify({
          ...JSON.parse(tinyModelFiles({ family: 'llama' })['config.json'] as string),
          torch_dtype: 'bfloat16',
        }),
      }),
    );
    expect(f32.config.halfWeights).toBeUndefined();
    const config = { family: 'llama', halfWeights: true } as DecoderConfig;
    const stored = (name: string) => ({ name, shape: [2, 2], file: 'm', dtype: 'BF16' });
    const params = await uploadParams(
      runtime,
      {
        config,
        weights: new Map([
          ['small', stored('small')],
          ['huge', stored('huge')],
        ]),
        read: async (name) => Float32Array.from(name === 'huge' ? [1, 2, 1e5, 3] : [1, 2, 3, 4]),
      },
      'lora',
    );
    expect(params.get('small')?.dtype).toBe('f16');
    expect(params.get('huge')?.dtype).toBe('f32');
  });
});
