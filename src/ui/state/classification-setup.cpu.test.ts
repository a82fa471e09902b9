/**
 * Classification runs from the studio's setup: an MRPC-style TSV analysed by the dataset worker's own
 * analysis (label counts over every parsed row), turned into the studio's training dataset, planned with
 * the built-in tiny BERT: the spec is a classification run on the file, checkpointed as language-model
 * runs are, "SFT vs LoRA"
 * gives full fine-tuning and LoRA with the engine's default targets, and the counted split equals the
 * split the engine makes of the same file. A language model refuses labelled rows and a classifier
 * refuses pasted text, each with a message that says what to choose instead.
 */
import { describe, expect, it } from 'vitest';
import { readClassificationRows } from '../../train/classify/classifier-run-data';
import { splitTrainValidation } from '../../train/data/split';
import { builtinTinyBert, builtinTinyLlama } from '../models/model-catalogue';
import { labelBalance } from '../screens/dataset/label-balance';
import { analyzeDataset } from '../workers/dataset-analysis';
import { taskDataProblem } from './classification-setup';
import { type DatasetState, trainingDataOf } from './dataset-slice';
import { checkpointInterval, defaultRunSetup, planRuns } from './run-setup';

const rows = Array.from({ length: 30 }, (_, i) => {
  const same = i % 3 !== 0;
  return `${same ? 1 : 0}\t${100 + i}\t${200 + i}\tThe cat sat .\t${same ? 'The cat sat .' : 'A dog is on the mat !'}`;
});
const tsv = `Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n${rows.join('\n')}\n`;
const file = new Blob([tsv]);

async function libraryDataset() {
  const analysis = await analyzeDataset({
    file,
    fileName: 'msr_paraphrase_train.txt',
    settings: { skipBadRows: false },
  });
  const state = {
    source: 'library',
    fileName: 'msr_paraphrase_train.txt',
    work: { status: 'ready', analysis, entryId: 'e1', file, settings: { skipBadRows: false } },
  } as unknown as DatasetState;
  return { analysis, data: trainingDataOf(state) };
}

describe('classification runs from the setup', () => {
  it('measures the label balance over every row of a sentence-pair file', async () => {
    const { analysis, data } = await libraryDataset();
    expect(analysis.schema.kind).toBe('sentence-pair');
    const balance = labelBalance(analysis.labels as NonNullable<typeof analysis.labels>);
    expect(balance.rows.map((r) => [r.label, r.count])).toEqual([
      ['0', 10],
      ['1', 20],
    ]);
    expect(balance.rows[1]?.share).toBeCloseTo(2 / 3, 12);
    expect(balance.majorityShare).toBeCloseTo(2 / 3, 12);
    expect(data).toMatchObject({ kind: 'file', examples: 0, labeledExamples: 30 });
  });

  it('plans full fine-tuning and LoRA as classification runs on the file, split as the engine splits it', async () => {
    const { data } = await libraryDataset();
    const planning = planRuns('sft-vs-lora', defaultRunSetup(builtinTinyBert.id), builtinTinyBert, data);
    if (!planning.ok) throw new Error(planning.message);
    expect(planning.plans.map((p) => p.label)).toEqual(['Full fine-tuning', 'LoRA r8']);
    const spec = planning.plans[1]?.spec;
    if (!spec) throw new Error('no LoRA plan');
    expect(spec.task).toBe('classification');
    expect(spec.checkpointEvery).toBe(checkpointInterval(spec.method, spec.train.steps ?? 30));
    expect(spec.checkpointEvery).toBeGreaterThan(0);
    expect(spec.modelName).toBe(builtinTinyBert.modelName);
    expect(spec.method).toEqual({ method: 'lora', r: 8, alpha: 16, dropout: 0.05 });
    expect(spec.data?.file?.blob).toBe(file);
    expect(spec.trainTexts).toBeUndefined();
    expect(planning.plans[0]?.settings.task).toBe('classification');
    // The engine reads the same 30 rows and holds out the same number, with the run's seed.
    const read = await readClassificationRows(spec);
    expect(read.labelSet).toEqual([0, 1]);
    const split = splitTrainValidation(read.dataset.examples, {
      validationFraction: read.validationFraction,
      seed: spec.train.seed,
    });
    expect(planning.plans[1]?.settings).toMatchObject({
      trainExamples: split.train.length,
      validationExamples: split.validation.length,
      validationHeldOut: true,
    });
    expect(split.validation.length).toBe(3);
  });

  it('refuses labelled rows for a language model and pasted text for a classifier, saying what to choose', async () => {
    const { data } = await libraryDataset();
    const lm = planRuns('single', defaultRunSetup(builtinTinyLlama.id), builtinTinyLlama, data);
    expect(lm).toMatchObject({ ok: false, message: expect.stringMatching(/encoder classifier/) });
    const pasted = planRuns('single', defaultRunSetup(builtinTinyBert.id), builtinTinyBert, ['one line']);
    expect(pasted).toMatchObject({ ok: false, message: expect.stringMatching(/labelled rows/) });
    expect(taskDataProblem('causal-lm', ['one line'])).toBeNull();
    expect(taskDataProblem('classification', data)).toBeNull();
  });
});
