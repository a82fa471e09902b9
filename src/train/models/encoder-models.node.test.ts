/**
 * Whole-model correctness for encoder classifiers: the GPU BERT, DistilBERT, RoBERTa and XLM-RoBERTa
 * steps against the independent tfjs reference (reference/tfjs-encoder.ts) on tiny random fixtures in HF
 * layout, with padded sentence pairs: logits to 1e-4 and loss to 1e-4 relative, and the gradient of every
 * parameter tensor to 1e-3 relative (of that tensor's largest reference entry).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { downloadTensor } from '../../gpu/tensor';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { classifierFolder } from '../classify/classifier-folder';
import { type ClassificationBatch, ClassifierStep } from '../classify/classifier-step';
import { EncoderFullFineTuning } from '../classify/encoder-methods';
import { type TinyEncoderOptions, tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel } from './bert';
import { openEncoderCheckpoint } from './bert-checkpoint';
import { encoderLogits, encoderLossAndGradients, type Params } from './reference/tfjs-encoder';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Right-pads [ids, types] rows with `pad` into a batch. */
function batchOf(rows: [number[], number[]][], labels: number[], pad: number): ClassificationBatch {
  const T = Math.max(...rows.map(([ids]) => ids.length));
  const fill = (row: number[], value: number) => [...row, ...Array(T - row.length).fill(value)];
  return {
    ids: rows.map(([ids]) => fill(ids, pad)),
    tokenTypes: rows.map(([, types]) => fill(types, 0)),
    attentionMask: rows.map(([ids]) =>
      fill(
        ids.map(() => 1),
        0,
      ),
    ),
    labels,
  };
}

// [CLS]=2, [SEP]=3 in the tiny WordPiece vocabulary; pairs with token types 0…0 1…1.
const pairs: [number[], number[]][] = [
  [
    [2, 40, 41, 42, 3, 50, 51, 3],
    [0, 0, 0, 0, 0, 1, 1, 1],
  ],
  [
    [2, 7, 3, 9, 3],
    [0, 0, 0, 1, 1],
  ],
  [
    [2, 60, 61, 62, 63, 3, 70, 71, 72, 3],
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
  ],
];

const cases: { name: string; options: TinyEncoderOptions; labels: number[]; pad: number }[] = [
  { name: 'BERT, a padded batch of sentence pairs', options: { family: 'bert' }, labels: [1, 0, 1], pad: 0 },
  {
    name: 'BERT without a head (initialised as HF does), legacy gamma/beta names, 3 classes, 1 layer',
    options: { family: 'bert', withHead: false, legacyNames: true, numLabels: 3, layers: 1, heads: 2 },
    labels: [2, 0, 1],
    pad: 0,
  },
  {
    name: 'DistilBERT, no token types, relu head',
    options: { family: 'distilbert' },
    labels: [0, 1, 1],
    pad: 0,
  },
  {
    name: 'RoBERTa, positions after padding_idx, classifier.dense/out_proj head',
    options: { family: 'roberta', hiddenSize: 24, heads: 3 },
    labels: [1, 1, 0],
    pad: 1,
  },
  {
    name: "XLM-RoBERTa (RoBERTa's model under its own names)",
    options: { family: 'roberta', xlm: true, layers: 1, seed: 5 },
    labels: [0, 1, 0],
    pad: 1,
  },
];

describe('encoder classifiers against the tfjs reference', () => {
  it.each(cases)('$name', async ({ options, labels, pad }) => {
    const runtime = await testRuntime();
    const checkpoint = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles(options)));
    const config = checkpoint.config;
    expect(checkpoint.initialised.length).toBe(options.withHead === false ? 4 : 0);
    const model = await createEncoderModel(runtime, checkpoint);
    const full = new EncoderFullFineTuning(runtime, model);
    // RoBERTa has one token type: its rows are all type 0.
    const rows = pairs.map(
      ([ids, types]) => [ids, config.TV === 1 ? types.map(() => 0) : types] as [number[], number[]],
    );
    const batch = batchOf(rows, labels, pad);
    const B = batch.ids.length;
    const T = batch.ids[0]?.length as number;
    const step = await ClassifierStep.plan(runtime, model, { B, T }, { adaptation: full, backward: true });
    step.run(batch);
    const loss = await step.loss();
    const logits = await step.readLogits();

    const ref: Params = new Map();
    for (const [name, shape] of checkpoint.shapes)
      ref.set(name, tf.variable(tf.tensor(await checkpoint.read(name), shape)));
    const wantLogits = await encoderLogits(config, ref, batch).data();
    let logitScale = 0;
    let logitError = 0;
    for (let i = 0; i < wantLogits.length; i++) {
      logitScale = Math.max(logitScale, Math.abs(wantLogits[i] as number));
      logitError = Math.max(logitError, Math.abs((logits[i] as number) - (wantLogits[i] as number)));
    }
    expect(logits.length).toBe(B * config.K);
    expect(logitError / logitScale, 'logits').toBeLessThan(1e-4);

    const want = encoderLossAndGradients(config, ref, batch);
    const wantLoss = (await want.loss.data())[0] as number;
    expect(Math.abs(loss - wantLoss) / Math.abs(wantLoss), 'loss').toBeLessThan(1e-4);
    expect(want.grads.size).toBe(checkpoint.shapes.size);
    const largest = async (t: tf.Tensor) => Math.max(...(await t.abs().data()));
    for (const [name, g] of want.grads) {
      const expected = await g.data();
      const got = await downloadTensor(runtime.arena, full.grads.get(name) as never);
      if (/(self\.key|k_lin)\.bias$/.test(name)) {
        // Zero in exact arithmetic: a key bias adds q·b to every score of a query row, which softmax
        // ignores. Both sides are rounding noise; the GPU's must stay far below the query bias's gradient.
        const queryBias = want.grads.get(
          name.replace('key.bias', 'query.bias').replace('k_lin.bias', 'q_lin.bias'),
        );
        const reference = await largest(queryBias as tf.Tensor);
        expect(Math.max(...got.map(Math.abs)) / reference, `gradient of ${name}`).toBeLessThan(1e-4);
        continue;
      }
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
      expect(scale, `gradient of ${name} is not all zero`).toBeGreaterThan(0);
      expect(worst / scale, `gradient of ${name}`).toBeLessThan(1e-3);
    }
  });

  it('saves a fine-tuned XLM-RoBERTa as XLMRobertaForSequenceClassification, model_type kept', async () => {
    const runtime = await testRuntime();
    const files = filesFromMemory(tinyEncoderFiles({ family: 'roberta', xlm: true, layers: 1 }));
    const checkpoint = await openEncoderCheckpoint(files);
    expect(checkpoint.config).toMatchObject({ family: 'roberta', base: 'roberta', padTokenId: 1 });
    const folder = await classifierFolder(runtime, await createEncoderModel(runtime, checkpoint), files, [
      'a',
      'b',
    ]);
    expect(JSON.parse(folder['config.json'] as string)).toMatchObject({
      architectures: ['XLMRobertaForSequenceClassification'],
      model_type: 'xlm-roberta',
    });
  });
});
