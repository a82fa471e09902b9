/**
 * Checks of the reference itself, on the fixture models: the properties HF's models have by
 * construction, so the oracle is not trusted blindly.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TinyFamily, tinyModelFiles } from '../../fixtures/tiny-models';
import { openCheckpoint } from '../../io/checkpoint';
import { filesFromMemory } from '../../io/model-files';
import { type Batch, logitsOf, lossAndGradients, lossOf, type Params } from './tfjs-causal-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function load(family: TinyFamily) {
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family })));
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.variable(tf.tensor(await checkpoint.read(name), w.shape), true));
  return { config: checkpoint.config, params };
}

const batch: Batch = {
  ids: [
    [256, 72, 101, 108, 108, 111, 33],
    [256, 87, 111, 114, 0, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0, 0],
  ],
  labels: [
    [256, 72, 101, 108, 108, 111, 33],
    [256, 87, 111, 114, -100, -100, -100],
  ],
};

describe.each<TinyFamily>(['llama', 'qwen2', 'qwen3', 'smollm3', 'gemma2', 'gemma3', 'gpt2'])(
  'tfjs reference %s',
  (family) => {
    it('is causal: a later token never changes an earlier logit', async () => {
      const { config, params } = await load(family);
      const changed = {
        ...batch,
        ids: [[...(batch.ids[0] as number[]).slice(0, 6), 90], batch.ids[1] as number[]],
      };
      const a = (await logitsOf(config, params, batch).array()) as number[][][];
      const b = (await logitsOf(config, params, changed).array()) as number[][][];
      expect(a[0]?.slice(0, 6)).toEqual(b[0]?.slice(0, 6));
      expect(a[0]?.[6]).not.toEqual(b[0]?.[6]);
    });

    it('starts near the uniform loss ln(V) and gives every parameter a gradient', async () => {
      const { config, params } = await load(family);
      const { loss, grads } = lossAndGradients(config, params, batch);
      expect(Math.abs(((await loss.data())[0] as number) - Math.log(config.V))).toBeLessThan(1.5);
      for (const [name, g] of grads) expect((await g.abs().max().data())[0], name).toBeGreaterThan(0);
    });

    it('ignores padding: a padded row gives the loss of the row alone', async () => {
      const { config, params } = await load(family);
      const alone: Batch = {
        ids: [[256, 87, 111, 114]],
        attentionMask: [[1, 1, 1, 1]],
        labels: [[256, 87, 111, 114]],
      };
      const padded: Batch = {
        ids: [batch.ids[1] as number[]],
        attentionMask: [batch.attentionMask[1] as number[]],
        labels: [batch.labels[1] as number[]],
      };
      const [x, y] = await Promise.all([
        lossOf(config, params, alone).data(),
        lossOf(config, params, padded).data(),
      ]);
      expect(y[0]).toBeCloseTo(x[0] as number, 5);
    });
  },
);
