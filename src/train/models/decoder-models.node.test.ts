/**
 * Whole-model correctness: the GPU Llama, Mistral, Qwen2, Qwen3, SmolLM3, Gemma 2 and 3 and GPT-2 steps against the independent tfjs reference
 * (reference/tfjs-causal-lm.ts) on tiny random fixtures: loss to 1e-4 relative, and the gradient of
 * every parameter tensor to 1e-3 relative (of that tensor's largest reference entry).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { downloadTensor } from '../../gpu/tensor';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyModelOptions, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { FullFineTuning } from '../peft/full';
import { createDecoderModel } from './create-model';
import { DecoderStep, type TokenBatch } from './decoder-step';
import { logitsOf, lossAndGradients, type Params } from './reference/tfjs-causal-lm';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function batchOf(rows: number[][], T: number): TokenBatch {
  const pad = (row: number[]) => [...row, ...Array(T - row.length).fill(0)];
  return {
    ids: rows.map(pad),
    attentionMask: rows.map((row) => pad(row.map(() => 1))),
    labels: rows.map((row) => [...row, ...Array(T - row.length).fill(-100)]),
  };
}

const cases: { name: string; options: TinyModelOptions; rows: number[][]; T: number }[] = [
  {
    name: 'Llama, GQA 2, a padded batch of odd length',
    options: { family: 'llama', heads: 4, kvHeads: 2 },
    rows: [
      [256, 72, 105, 33, 10, 200, 7],
      [256, 65, 66],
    ],
    T: 7,
  },
  {
    name: 'Llama, GQA 1 (multi-head), untied',
    options: { family: 'llama', heads: 2, kvHeads: 2, hiddenSize: 16, tieWordEmbeddings: false },
    rows: [[256, 1, 2, 3, 4]],
    T: 5,
  },
  {
    name: 'Qwen2, GQA 7, q/k/v biases, tied',
    options: { family: 'qwen2', heads: 7, kvHeads: 1, hiddenSize: 56, layers: 1 },
    rows: [[256, 9, 8, 7, 6, 5, 4, 3, 2]],
    T: 9,
  },
  {
    name: 'Qwen3, per-head q/k norms, head_dim 16 over width 32 (attention twice the width), a padded batch',
    options: { family: 'qwen3', heads: 4, kvHeads: 2 },
    rows: [
      [256, 72, 105, 33, 10, 200, 7, 3],
      [256, 65, 66, 67, 68],
    ],
    T: 8,
  },
  {
    name: 'Qwen3, GQA 3, attention bias, untied, head_dim 8 over width 24',
    options: {
      family: 'qwen3',
      heads: 3,
      kvHeads: 1,
      hiddenSize: 24,
      headDim: 8,
      layers: 1,
      tieWordEmbeddings: false,
      attentionBias: true,
    },
    rows: [[256, 9, 8, 7, 6, 5]],
    T: 6,
  },
  {
    name: 'Mistral, a sliding window of 4 over rows of 11, a padded batch, untied',
    options: { family: 'mistral', slidingWindow: 4, heads: 4, kvHeads: 1 },
    rows: [
      [256, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [256, 9, 10, 11, 12, 13],
    ],
    T: 11,
  },
  {
    name: 'Qwen2, layer 0 within a window of 3 (layer_types), layer 1 full',
    options: {
      family: 'qwen2',
      slidingWindow: 3,
      layerTypes: ['sliding_attention', 'full_attention'],
      heads: 4,
      kvHeads: 2,
    },
    rows: [[256, 31, 41, 59, 26, 53, 58, 97, 93]],
    T: 9,
  },
  {
    name: 'SmolLM3, layer 1 without RoPE (NoPE), a padded batch',
    options: { family: 'smollm3', heads: 4, kvHeads: 2 },
    rows: [
      [256, 12, 104, 33, 10, 200, 7],
      [256, 65, 66, 67],
    ],
    T: 7,
  },
  {
    name: 'Gemma 3: (1 + w) norms, sandwich norms, GeGLU, √C embeddings, window 4 on layer 0 with its own RoPE base',
    options: { family: 'gemma3', heads: 4, kvHeads: 1 },
    rows: [
      [256, 72, 105, 33, 10, 200, 7, 3, 44],
      [256, 65, 66, 67, 68, 69],
    ],
    T: 9,
  },
  {
    name: 'Gemma 3, head_dim 8 over width 24, GQA 3, attention bias, untied',
    options: {
      family: 'gemma3',
      heads: 3,
      kvHeads: 1,
      hiddenSize: 24,
      headDim: 8,
      attentionBias: true,
      tieWordEmbeddings: false,
    },
    rows: [[256, 9, 8, 7, 6, 5, 4]],
    T: 7,
  },
  {
    name: 'Gemma 2: soft-capped scores and logits, sandwich norms, no q/k norms, window 4 on layer 0, padded',
    options: { family: 'gemma2', heads: 4, kvHeads: 2 },
    rows: [
      [256, 72, 105, 33, 10, 200, 7, 3, 44],
      [256, 65, 66, 67, 68],
    ],
    T: 9,
  },
  {
    name: 'GPT-2, tied, learned positions, a padded batch',
    options: { family: 'gpt2', heads: 4 },
    rows: [
      [72, 105, 33, 10, 200, 7],
      [65, 66, 67],
    ],
    T: 6,
  },
];

describe('decoder models against the tfjs reference', () => {
  it.each(cases)('$name', async ({ options, rows, T }) => {
    const runtime = await testRuntime();
    const files = tinyModelFiles(options);
    const checkpoint = await openCheckpoint(filesFromMemory(files));
    const config = checkpoint.config;
    const model = await createDecoderModel(runtime, checkpoint);
    const full = new FullFineTuning(runtime, model);
    const step = await DecoderStep.plan(
      runtime,
      model,
      { B: rows.length, T },
      { adaptation: full, backward: true },
    );
    const batch = batchOf(rows, T);
    step.run(batch);
    const { loss } = await step.loss();

    const ref: Params = new Map();
    for (const name of checkpoint.weights.keys()) {
      ref.set(name, tf.variable(tf.tensor(await checkpoint.read(name), checkpoint.weights.get(name)?.shape)));
    }
    const want = lossAndGradients(config, ref, batch);
    const wantLoss = (await want.loss.data())[0] as number;
    expect(Math.abs(loss - wantLoss) / Math.abs(wantLoss)).toBeLessThan(1e-4);

    const forward = await DecoderStep.plan(runtime, model, { B: rows.length, T }, { keepLogits: true });
    forward.run(batch);
    const logits = await forward.readLogits();
    const wantLogits = await logitsOf(config, ref, batch).data();
    let logitScale = 0;
    let logitError = 0;
    // Padding positions are left out: under a sliding window one can see no key at all, where the kernel
    // writes zeros and HF's masked softmax averages the hidden values; neither is ever scored.
    const V = config.V;
    const padded = batch.attentionMask.flat().map((m) => m === 0);
    for (let i = 0; i < wantLogits.length; i++) {
      if (padded[Math.floor(i / V)]) continue;
      logitScale = Math.max(logitScale, Math.abs(wantLogits[i] as number));
      logitError = Math.max(logitError, Math.abs((logits[i] as number) - (wantLogits[i] as number)));
    }
    expect(logitError / logitScale, 'logits').toBeLessThan(1e-4);

    for (const [name, g] of want.grads) {
      const expected = await g.data();
      const got = await downloadTensor(runtime.arena, full.grads.get(name) as never);
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
      expect(worst / scale, `gradient of ${name}`).toBeLessThan(1e-3);
    }
  });
});
