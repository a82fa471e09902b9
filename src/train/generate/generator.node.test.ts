/**
 * Generation with the KV cache against the independent tfjs reference: greedy decoding that reruns the
 * whole reference model on the growing sequence must give the same tokens.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyFamily, type TinyModelOptions, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import { logitsOf, type Params } from '../models/reference/tfjs-causal-lm';
import { Generator } from './generator';
import { argmax } from './sampling';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Mistral with a window of 5: the prompt and the tokens decoded after it pass the window, so the decode
// step's window mask is what keeps it equal to the reference.
const fixtureOptions = (family: TinyFamily): TinyModelOptions => ({
  family,
  seed: 3,
  ...(family === 'mistral' ? { slidingWindow: 5 } : {}),
});

describe.each<TinyFamily>(['llama', 'mistral', 'qwen2', 'qwen3', 'smollm3', 'gemma2', 'gemma3', 'gpt2'])(
  'generation with a KV cache, %s',
  (family) => {
    it('greedy tokens equal greedy decoding of the reference model without a cache', async () => {
      const runtime = await testRuntime();
      // Larger weights than the default fixture, so the argmax is decisive.
      const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles(fixtureOptions(family))));
      const model = await createDecoderModel(runtime, checkpoint);
      const generator = new Generator(runtime, model, 24);
      const prompt = family === 'gpt2' ? [72, 101, 108, 108, 111] : [256, 72, 101, 108, 108, 111];
      const got = await generator.generate(prompt, { maxNewTokens: 8 });

      const params: Params = new Map();
      for (const [name, w] of checkpoint.weights)
        params.set(name, tf.tensor(await checkpoint.read(name), w.shape));
      const want: number[] = [];
      const sequence = [...prompt];
      for (let i = 0; i < 8; i++) {
        const batch = { ids: [sequence], attentionMask: [sequence.map(() => 1)], labels: [sequence] };
        const logits = (await logitsOf(checkpoint.config, params, batch).array()) as number[][][];
        const next = argmax(logits[0]?.[sequence.length - 1] ?? []);
        want.push(next);
        sequence.push(next);
      }
      expect(got).toEqual(want);

      // A second prompt reuses the cache and the decode step.
      const again = await generator.generate(prompt.slice(0, 3), { maxNewTokens: 3 });
      expect(again).toHaveLength(3);
    });

    it('stops at an EOS id and at a stop string', async () => {
      const runtime = await testRuntime();
      const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles(fixtureOptions(family))));
      const generator = new Generator(runtime, await createDecoderModel(runtime, checkpoint), 24);
      const prompt = [72, 101, 108];
      const free = await generator.generate(prompt, { maxNewTokens: 6 });
      const stopAt = free[2] as number;
      expect(await generator.generate(prompt, { maxNewTokens: 6, stopTokenIds: [stopAt] })).toEqual(
        free.slice(0, free.indexOf(stopAt) + 1),
      );
      const decode = (ids: number[]) => ids.map((id) => `<${id}>`).join('');
      const stopString = `<${free[1]}>`;
      const stopped = await generator.generate(prompt, {
        maxNewTokens: 6,
        stopStrings: [stopString],
        decode,
      });
      expect(decode(stopped).endsWith(stopString)).toBe(true);
      expect(stopped.length).toBeLessThanOrEqual(2);
    });
  },
);
