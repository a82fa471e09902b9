// The split an adapter is scored on, rebuilt from a run's spec without a GPU: the Trainer's batches (rows
// of the run's batch size, padded to its T), and named errors for what cannot be scored.
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { defaultTrainConfig } from '../train-config';
import { EvaluationError, validationBatches } from './evaluate-target';
import type { EvaluationData } from './protocol';

const bundle = await openModelBundle(
  filesFromMemory(tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 }), 'tiny'),
);
const train = { ...defaultTrainConfig, batchSize: 2, seqLen: 64 };
const data = (spec: Partial<EvaluationData['spec']>): EvaluationData => ({
  runId: 'r1',
  spec: { modelName: 'tiny', train, ...spec },
});

describe('a run’s validation split for scoring', () => {
  it('batches the held-out rows as the Trainer does', async () => {
    const split = await validationBatches(
      data({ trainTexts: ['a long training line of text here'], validationTexts: ['one', 'two', 'three'] }),
      bundle,
    );
    expect(split.examples).toBe(3);
    expect(split.B).toBe(2);
    // T: the longest row of train and validation (the training line), rounded up to 8.
    expect(split.T % 8).toBe(0);
    expect(split.T).toBeGreaterThanOrEqual(
      bundle.tokenizer.encode('a long training line of text here').length,
    );
    expect(split.batches).toHaveLength(2);
    for (const batch of split.batches) expect(batch.ids.every((row) => row.length === split.T)).toBe(true);
    // The padding row of the last batch is not scored.
    expect(split.batches[1]?.labels[1]?.every((l) => l === -100)).toBe(true);
  });

  it('refuses a run with no validation split, a classification run and a DPO run, by name', async () => {
    await expect(validationBatches(data({ trainTexts: ['a'], validationTexts: [] }), bundle)).rejects.toThrow(
      EvaluationError,
    );
    await expect(validationBatches(data({ trainTexts: ['a'], validationTexts: [] }), bundle)).rejects.toThrow(
      /held no rows out/,
    );
    await expect(
      validationBatches(data({ task: 'classification', trainTexts: ['a'], validationTexts: ['b'] }), bundle),
    ).rejects.toThrow(/classification run/);
    const dpo = data({
      train: { ...train, preference: { beta: 0.1 } },
      trainTexts: ['a'],
      validationTexts: ['b'],
    });
    await expect(validationBatches(dpo, bundle)).rejects.toThrow(/trained DPO/);
  });
});
