/**
 * "Run at scale…" for a classifier: the studio's plan for the built-in tiny BERT on a labelled library
 * file zips a transformers Trainer + PEFT SEQ_CLS job whose validation rows are the plan's count, and
 * the kept exported job carries the classification spec the adapter that comes back is scored with.
 * What each method cannot export on which encoder is said before the export is tried.
 */
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { builtinTinyBert, encoderConfigOf } from '../../models/model-catalogue';
import { keptExportedJob } from '../../state/keep-run-spec';
import { defaultRunSetup, planRuns } from '../../state/run-setup';
import { exportUnavailableReason, scaleJobZip } from './run-at-scale';

const lines = Array.from({ length: 30 }, (_, i) =>
  JSON.stringify({ text: `the cat sat on the mat ${i}`, label: i % 2 === 0 ? 'pos' : 'neg' }),
);
const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
const data = {
  kind: 'file' as const,
  file: new Blob([bytes]),
  fileName: 'labels.jsonl',
  settings: { skipBadRows: false },
  format: 'jsonl' as const,
  examples: 0,
  labeledExamples: 30,
};

describe('run at scale: classifiers', () => {
  it('zips a Trainer + PEFT SEQ_CLS job on the plan’s split and keeps it for scoring', async () => {
    const planning = planRuns('single', defaultRunSetup(builtinTinyBert.id), builtinTinyBert, data);
    if (!planning.ok) throw new Error(planning.message);
    const plan = planning.plans[0];
    if (!plan) throw new Error('no plan');
    const zip = unzipSync(
      await scaleJobZip({
        modelName: builtinTinyBert.modelName,
        model: encoderConfigOf(builtinTinyBert),
        method: plan.settings.method,
        train: plan.settings.train,
        data,
        maskPrompt: true,
        packing: false,
      }),
    );
    const script = strFromU8(zip['train.py'] as Uint8Array);
    expect(script).toContain('AutoModelForSequenceClassification');
    expect(script).toContain('LABELS = ["neg", "pos"]');
    const rows = (name: string) =>
      strFromU8(zip[name] as Uint8Array)
        .trim()
        .split('\n').length;
    // ceil(0.1 × 30) = 3 held out, as the plan counts them.
    expect(plan.settings.validationExamples).toBe(3);
    expect(rows('dataset/validation.jsonl')).toBe(3);
    expect(rows('dataset/train.jsonl')).toBe(27);

    const kept = keptExportedJob(plan, { id: 'job-1', fileName: 'job.zip', datasetId: 'ds-1', savedAt: 5 });
    expect(kept?.kind).toBe('exported-job');
    expect(kept?.validationExamples).toBe(3);
    expect(kept?.spec.task).toBe('classification');
    expect(kept?.spec.data?.file).toMatchObject({ fileName: 'labels.jsonl', datasetId: 'ds-1' });
    expect(kept?.spec.train.seed).toBe(plan.settings.train.seed);
  });

  it('says what an encoder cannot export', () => {
    expect(exportUnavailableReason('lora', { family: 'bert' })).toBeNull();
    expect(exportUnavailableReason('prefix', { family: 'roberta' })).toBeNull();
    expect(exportUnavailableReason('prefix', { family: 'distilbert' })).toMatch(/DistilBERT takes no past/);
    expect(exportUnavailableReason('adapter', { family: 'bert' })).toMatch(/transformers \+ PEFT/);
  });
});
