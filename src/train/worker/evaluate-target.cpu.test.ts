// The split an adapter is scored on, rebuilt from a run's spec without a GPU: the Trainer's batches (rows
// of the run's batch size, padded to its T), a DPO run's validation pairs (the run's own, at its batch
// size and β), and named errors for what cannot be scored.
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openModelBundle } from '../io/model-bundle';
import { filesFromMemory } from '../io/model-files';
import { frozen } from '../peft/adaptation';
import { defaultTrainConfig } from '../train-config';
import { scorePairsOnSplit, validationPairs } from './evaluate-pairs-target';
import { EvaluationError, type ScoringModel, validationBatches } from './evaluate-target';
import type { EvaluationData } from './protocol';
import { loadRunData, runPairs } from './run-data';

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

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const pairRows = Array.from({ length: 10 }, (_, i) => ({
  prompt: `count from ${i}:`,
  chosen: ` ${i + 1} ${i + 2}`,
  rejected: ` ${i} ${i}`,
}));
const dpoData = (validationFraction: number): EvaluationData =>
  data({
    train: { ...train, batchSize: 3, seed: 5, preference: { beta: 0.25 } },
    data: {
      file: { blob: new Blob([jsonl(pairRows)]), fileName: 'pairs.jsonl', skipBadRows: false },
      validationFraction,
    },
  });

describe('a DPO run’s validation pairs for scoring', () => {
  it('are the pairs the run held out, at the run’s batch size, sequence length and β', async () => {
    const given = dpoData(0.3);
    const split = await validationPairs(given, bundle);
    const run = runPairs(
      await loadRunData({
        ...given.spec,
        modelFiles: {},
        method: { method: 'lora', r: 2, alpha: 4, dropout: 0 },
      }),
      bundle.tokenizer,
      bundle.generation.eosTokenIds[0],
    );
    expect(split.pairs).toHaveLength(3);
    expect(split.pairs).toEqual(run.validation);
    expect(split).toMatchObject({ batchSize: 3, seqLen: 64, beta: 0.25 });
    // Held-out pairs, not training ones: the seeded split keeps them apart.
    for (const pair of split.pairs) expect(run.train).not.toContainEqual(pair);
  });

  it('refuses a run without held-out pairs, an SFT run, the base model and a fully fine-tuned run, by name', async () => {
    await expect(validationPairs(dpoData(0), bundle)).rejects.toThrow(/held no pairs out/);
    await expect(
      validationPairs(data({ trainTexts: ['a'], validationTexts: ['b'] }), bundle),
    ).rejects.toThrow(/not preference pairs/);
    // Refused before any GPU work: the runtime and model are never touched.
    const scoring = (adaptation?: ScoringModel['adaptation']): ScoringModel => ({
      runtime: {} as never,
      model: {} as never,
      bundle,
      ...(adaptation ? { adaptation } : {}),
    });
    await expect(scorePairsOnSplit(scoring(), dpoData(0.3))).rejects.toThrow(EvaluationError);
    await expect(scorePairsOnSplit(scoring(), dpoData(0.3))).rejects.toThrow(/DPO's reference/);
    await expect(scorePairsOnSplit(scoring(frozen), dpoData(0.3))).rejects.toThrow(/DPO's reference/);
    await expect(scorePairsOnSplit(scoring({ ...frozen, method: 'full' }), dpoData(0.3))).rejects.toThrow(
      /fine-tuned every weight/,
    );
  });
});
