// A library dataset reaches training as its file, not as texts: planRuns puts the Blob and the person's
// read settings into RunSpec.data, and the worker's data step turns a chat file from that spec into rows
// whose prompt tokens carry label -100 (the CLI's completion-only training).
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { openModelBundle } from '../../train/io/model-bundle';
import { filesFromMemory } from '../../train/io/model-files';
import { loadRunData, runExamples } from '../../train/worker/run-data';
import type { StudioModel } from '../models/model-catalogue';
import type { TrainingDataset } from './dataset-slice';
import { checkpointInterval, defaultRunSetup, planRuns, studioValidationFraction } from './run-setup';

const files = tinyModelFiles({ family: 'llama', hiddenSize: 32, layers: 1 });
const model: StudioModel = {
  id: 'tiny',
  label: 'Tiny',
  modelName: 'tiny-llama',
  description: '',
  maxSeqLen: 256,
  files: () => files as Record<string, Uint8Array>,
};

const rows = Array.from({ length: 12 }, (_, i) => ({
  conversations: [
    { from: 'human', value: `how is ${i}?` },
    { from: 'gpt', value: `${i} is fine` },
  ],
}));
const chatFile = new Blob([rows.map((r) => JSON.stringify(r)).join('\n')]);
const dataset: TrainingDataset = {
  kind: 'file',
  file: chatFile,
  fileName: 'sharegpt.jsonl',
  settings: { skipBadRows: true },
  format: 'jsonl',
  examples: rows.length,
};

describe('planning runs on a library dataset', () => {
  it('sends the file and read settings, not texts, and counts the seeded split', () => {
    const setup = defaultRunSetup(model.id);
    const planning = planRuns(
      'sft-vs-lora',
      { ...setup, fields: { ...setup.fields, seqLen: '160' } },
      model,
      dataset,
    );
    if (!planning.ok) throw new Error(planning.message);
    for (const plan of planning.plans) {
      expect(plan.spec.trainTexts).toBeUndefined();
      expect(plan.spec.data?.file?.blob).toBe(chatFile);
      expect(plan.spec.data?.file).toMatchObject({ fileName: 'sharegpt.jsonl', skipBadRows: true });
      expect(plan.spec.data).toMatchObject({
        validationFraction: studioValidationFraction,
        maskPrompt: true,
      });
      expect(plan.settings).toMatchObject({
        trainExamples: 10,
        validationExamples: 2,
        validationHeldOut: true,
      });
    }
  });

  it('turns that spec into rows with the prompt masked, in the split it counted', async () => {
    const setup = defaultRunSetup(model.id);
    const planning = planRuns(
      'single',
      { ...setup, fields: { ...setup.fields, seqLen: '160' } },
      model,
      dataset,
    );
    if (!planning.ok) throw new Error(planning.message);
    const plan = planning.plans[0];
    if (!plan) throw new Error('no plan');
    const { tokenizer, generation } = await openModelBundle(filesFromMemory(files, 'tiny'));
    const examples = runExamples(await loadRunData(plan.spec), tokenizer, generation.eosTokenIds[0]);
    expect(examples.train).toHaveLength(plan.settings.trainExamples);
    expect(examples.validation).toHaveLength(plan.settings.validationExamples);
    for (const row of [...examples.train, ...examples.validation]) {
      const labels = row.labels ?? [];
      const firstTrained = labels.findIndex((l) => l !== -100);
      // The templated user turn is masked; the assistant's answer is trained on, token for token.
      expect(firstTrained).toBeGreaterThan(5);
      expect(labels.slice(0, firstTrained).every((l) => l === -100)).toBe(true);
      const trained = labels.flatMap((l, i) => (l === -100 ? [] : [row.ids[i]]));
      expect(tokenizer.decode(trained as number[])).toMatch(/\d+ is fine/);
    }
  });

  it('refuses a file with nothing to train a language model on', () => {
    const planning = planRuns('single', defaultRunSetup(model.id), model, { ...dataset, examples: 0 });
    expect(!planning.ok && planning.message).toMatch(/dataset/);
  });

  it('checkpoints a quarter of a short run at most, and full fine-tuning rarely', () => {
    const lora = { method: 'lora', r: 8, alpha: 16, dropout: 0 } as const;
    expect(checkpointInterval(lora, 12)).toBe(3);
    expect(checkpointInterval(lora, 1000)).toBe(20);
    expect(checkpointInterval({ method: 'full' }, 1000)).toBe(100);
    expect(checkpointInterval({ method: 'full' }, 2)).toBe(1);
  });
});
