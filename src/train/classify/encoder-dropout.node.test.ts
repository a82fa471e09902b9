/**
 * Training-time dropout on an encoder classifier (config.dropout, as HF's model.train()): with every
 * probability 0 a dropout step gives bit-identical loss and gradients to a step without dropout; with
 * dropout on, a step's loss and gradients are a deterministic function of (seed, step): the same seed and
 * step give the same values (also from a freshly planned step), another step or seed gives different
 * ones, and neither equals the no-dropout step. Evaluation plans never drop.
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor } from '../../gpu/tensor';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, type EncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { type ClassificationBatch, ClassifierStep } from './classifier-step';
import { EncoderFullFineTuning } from './encoder-methods';

const batch: ClassificationBatch = {
  ids: [
    [2, 40, 41, 3, 50, 51, 3],
    [2, 7, 3, 9, 3, 0, 0],
  ],
  tokenTypes: [
    [0, 0, 0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 0, 0],
  ],
  labels: [1, 0],
};

async function setup(family: 'bert' | 'roberta' | 'distilbert') {
  const runtime = await testRuntime();
  const checkpoint = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles({ family, layers: 2 })));
  const model = await createEncoderModel(runtime, checkpoint);
  const adaptation = new EncoderFullFineTuning(runtime, model);
  const fixed =
    family === 'bert'
      ? batch
      : {
          ...batch,
          ids: batch.ids.map((row, b) =>
            row.map((id, t) => (batch.attentionMask[b]?.[t] ? id : model.config.padTokenId)),
          ),
          tokenTypes: batch.tokenTypes.map((row) => row.map(() => 0)),
        };
  return { runtime, model, adaptation, batch: fixed };
}

/** The loss and every gradient (concatenated) of one step at `step`. */
async function runStep(
  runtime: Runtime,
  model: EncoderModel,
  adaptation: EncoderFullFineTuning,
  input: ClassificationBatch,
  dropoutSeed: number | undefined,
  steps: number[] = [0],
) {
  const plan = await ClassifierStep.plan(
    runtime,
    model,
    { B: 2, T: 7 },
    { adaptation, backward: true, ...(dropoutSeed === undefined ? {} : { dropoutSeed }) },
  );
  const results: { loss: number; grads: Float32Array }[] = [];
  for (const step of steps) {
    plan.setStep(step);
    plan.run(input);
    const loss = await plan.loss();
    const parts = await Promise.all(
      adaptation.trainable().map((e) => downloadTensor(runtime.arena, e.grad as Tensor)),
    );
    const grads = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      grads.set(p, offset);
      offset += p.length;
    }
    results.push({ loss, grads });
  }
  return results;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('dropout in encoder training steps', () => {
  it('with every probability 0, a dropout step equals the step without dropout bit for bit', async () => {
    const { runtime, model, adaptation, batch: input } = await setup('bert');
    const [plain] = await runStep(runtime, model, adaptation, input, undefined);
    const saved = { ...model.config.dropout };
    Object.assign(model.config.dropout, { hidden: 0, classifier: 0, attentionProbs: 0 });
    try {
      const [zero] = await runStep(runtime, model, adaptation, input, 3);
      expect(zero?.loss).toBe(plain?.loss);
      expect(same(zero?.grads as Float32Array, plain?.grads as Float32Array)).toBe(true);
    } finally {
      Object.assign(model.config.dropout, saved);
    }
  });

  for (const family of ['bert', 'roberta', 'distilbert'] as const) {
    it(`${family}: dropout changes the step deterministically per (seed, step)`, async () => {
      const { runtime, model, adaptation, batch: input } = await setup(family);
      expect(model.config.dropout.hidden).toBeGreaterThan(0);
      const [plain] = await runStep(runtime, model, adaptation, input, undefined);
      const [a0, a1, a0again] = await runStep(runtime, model, adaptation, input, 7, [0, 1, 0]);
      const [fresh0] = await runStep(runtime, model, adaptation, input, 7, [0]);
      const [other0] = await runStep(runtime, model, adaptation, input, 8, [0]);
      const loss = (r?: { loss: number }) => r?.loss as number;
      const grads = (r?: { grads: Float32Array }) => r?.grads as Float32Array;
      // Same seed and step: identical, also from a newly planned step.
      expect(loss(a0again)).toBe(loss(a0));
      expect(same(grads(a0again), grads(a0))).toBe(true);
      expect(loss(fresh0)).toBe(loss(a0));
      expect(same(grads(fresh0), grads(a0))).toBe(true);
      // Another step, another seed, or no dropout: different.
      expect(loss(a1)).not.toBe(loss(a0));
      expect(loss(other0)).not.toBe(loss(a0));
      expect(loss(a0)).not.toBe(loss(plain));
      expect(same(grads(a1), grads(a0))).toBe(false);
      for (const r of [a0, a1, other0]) expect(Number.isFinite(loss(r))).toBe(true);
    });
  }
});
