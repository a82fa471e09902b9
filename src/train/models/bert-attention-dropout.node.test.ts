/**
 * Attention-probability dropout in a whole encoder training step: the GPU step (masks hashed inside the
 * attention kernels from (seed, step, stream)) against the tfjs reference given the same masks as explicit
 * [B, NH, T, S] tensors, computed by attention.ref.ts's port of the hash. Hidden and classifier dropout
 * are off so the attention sites take streams 0..L−1. Loss to 1e-4 relative and every parameter's
 * gradient to 1e-3 relative (of its largest reference entry), as encoder-models.node.test.ts checks
 * the step without dropout; and the dropped step must differ from the undropped one.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionRefSpec, attentionDropoutFactor } from '../../gpu/kernels/attention/attention.ref';
import { downloadTensor } from '../../gpu/tensor';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type ClassificationBatch, ClassifierStep } from '../classify/classifier-step';
import { EncoderFullFineTuning } from '../classify/encoder-methods';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel } from './bert';
import { openEncoderCheckpoint } from './bert-checkpoint';
import { encoderLossAndGradients, type Params } from './reference/tfjs-encoder';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A padded batch of sentence pairs in the tiny WordPiece vocabulary ([CLS]=2, [SEP]=3).
const batch: ClassificationBatch = {
  ids: [
    [2, 40, 41, 42, 3, 50, 51, 3, 52],
    [2, 7, 3, 9, 3, 0, 0, 0, 0],
  ],
  tokenTypes: [
    [0, 0, 0, 0, 0, 1, 1, 1, 1],
    [0, 0, 0, 1, 1, 0, 0, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0, 0, 0],
  ],
  labels: [1, 0],
};

describe('attention-probability dropout in an encoder step', () => {
  it('gives the loss and gradients of the tfjs reference with the same masks (BERT, 2 layers, p = 0.3)', async () => {
    const runtime = await testRuntime();
    const checkpoint = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles({ family: 'bert' })));
    const config = checkpoint.config;
    Object.assign(config.dropout, { hidden: 0, classifier: 0, attentionProbs: 0.3 });
    const model = await createEncoderModel(runtime, checkpoint);
    const full = new EncoderFullFineTuning(runtime, model);
    const B = batch.ids.length;
    const T = batch.ids[0]?.length as number;
    const seed = 11;
    const stepIndex = 4;
    const step = await ClassifierStep.plan(
      runtime,
      model,
      { B, T },
      { adaptation: full, backward: true, dropoutSeed: seed },
    );
    step.setStep(stepIndex);
    step.run(batch);
    const loss = await step.loss();

    // Layer i's mask: stream i (the only dropout sites of this step, in layer order).
    const masks = Array.from({ length: config.L }, (_, layer) => {
      const spec: AttentionRefSpec = {
        ...{ B, T, S: T, NH: config.NH, KVH: config.NH, D: config.D, causal: false },
        dropout: { p: 0.3, key: { seed, step: stepIndex, stream: layer } },
      };
      const z = new Float32Array(B * config.NH * T * T);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < config.NH; h++)
          for (let t = 0; t < T; t++)
            for (let s = 0; s < T; s++)
              z[((b * config.NH + h) * T + t) * T + s] = attentionDropoutFactor(spec, b, h, t, s);
      return tf.tensor4d(z, [B, config.NH, T, T]);
    });
    const dropped = (await Promise.all(masks.map((m) => m.data()))).flatMap((z) => [...z]);
    const share = dropped.filter((z) => z === 0).length / dropped.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);

    const ref: Params = new Map();
    for (const [name, shape] of checkpoint.shapes)
      ref.set(name, tf.variable(tf.tensor(await checkpoint.read(name), shape)));
    const want = encoderLossAndGradients(config, ref, batch, { attentionDropout: masks });
    const wantLoss = (await want.loss.data())[0] as number;
    const undropped = (await encoderLossAndGradients(config, ref, batch).loss.data())[0] as number;
    expect(Math.abs(wantLoss - undropped) / Math.abs(undropped), 'the masks change the loss').toBeGreaterThan(
      1e-3,
    );
    expect(Math.abs(loss - wantLoss) / Math.abs(wantLoss), 'loss').toBeLessThan(1e-4);

    for (const [name, g] of want.grads) {
      // Zero in exact arithmetic (softmax ignores a per-row shift; dropout comes after the softmax).
      if (/self\.key\.bias$/.test(name)) continue;
      const expected = await g.data();
      const got = await downloadTensor(runtime.arena, full.grads.get(name) as never);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        scale = Math.max(scale, Math.abs(expected[i] as number));
        worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
      }
      expect(scale, `gradient of ${name} is not all zero`).toBeGreaterThan(0);
      expect(worst / scale, `gradient of ${name}`).toBeLessThan(1e-3);
    }
  });
});
