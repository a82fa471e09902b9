/**
 * The browser side of model loading, in Chromium: a model given as dropped File objects opens, runs on
 * the page's WebGPU device and generates what the tfjs reference generates; and the Cache Storage model
 * cache commits only complete entries.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { Generator } from '../generate/generator';
import { argmax } from '../generate/sampling';
import { createDecoderModel } from '../models/create-model';
import { logitsOf, type Params } from '../models/reference/tfjs-causal-lm';
import { browserModelCache } from './browser-model-cache';
import { openModelBundle } from './model-bundle';
import { CacheSizeMismatchError } from './model-cache';
import { filesFromBrowser } from './model-files';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('models in the browser', () => {
  it('opens dropped files, runs on the page GPU and generates what the reference does', async () => {
    const dropped = Object.entries(tinyModelFiles({ family: 'llama', seed: 3 })).map(
      ([name, content]) => new File([content as BlobPart], name),
    );
    const bundle = await openModelBundle(filesFromBrowser(dropped));
    const runtime = await testRuntime();
    const model = await createDecoderModel(runtime, bundle.checkpoint);
    const prompt = bundle.tokenizer.encode('Hi');
    const got = await new Generator(runtime, model, 16).generate(prompt, { maxNewTokens: 4 });

    const params: Params = new Map();
    for (const [name, w] of bundle.checkpoint.weights)
      params.set(name, tf.tensor(await bundle.checkpoint.read(name), w.shape));
    const sequence = [...prompt];
    for (let i = 0; i < 4; i++) {
      const logits = (await logitsOf(bundle.checkpoint.config, params, {
        ids: [sequence],
        attentionMask: [sequence.map(() => 1)],
        labels: [sequence],
      }).array()) as number[][][];
      sequence.push(argmax(logits[0]?.[sequence.length - 1] ?? []));
    }
    expect(got).toEqual(sequence.slice(prompt.length));
  });

  it('keeps only complete entries in Cache Storage', async () => {
    const cache = await browserModelCache(`whetstone-test-${Date.now()}`);
    const good = await cache.put('org/model@main/config.json', 3);
    await good.write(new Uint8Array([1, 2, 3]));
    await good.commit();
    expect(await cache.get('org/model@main/config.json', 1)).toEqual(new Uint8Array([2, 3]));
    const short = await cache.put('org/model@main/model.safetensors', 10);
    await short.write(new Uint8Array(4));
    await expect(short.commit()).rejects.toBeInstanceOf(CacheSizeMismatchError);
    expect(await cache.has('org/model@main/model.safetensors')).toBe(false);
    expect(await cache.list('org/model@main/')).toEqual(['org/model@main/config.json']);
  });
});
