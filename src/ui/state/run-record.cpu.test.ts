/**
 * A classification run's record: each eval event's accuracy, F1 and confusion matrix are kept with its
 * validation loss, at the training time of the step it followed; a language model's evals stay plain
 * losses; the latest scores are the ones the card and summary table show; the history archive keeps them.
 */
import { describe, expect, it } from 'vitest';
import { defaultTrainConfig } from '../../train/train-config';
import type { ClassificationScores, StepProgress } from '../../train/worker/protocol';
import { latestScores } from '../screens/compare/classification-chart-data';
import { memoryRunArchive } from './run-archive';
import { applyEvent, type RunRecord } from './run-record';

const record = (id: string): RunRecord => ({
  id,
  groupId: 'g',
  groupIndex: 0,
  label: 'LoRA r8',
  color: '#000',
  createdAt: 1,
  settings: {
    modelId: 'builtin-tiny-bert',
    modelLabel: 'tiny BERT',
    method: { method: 'lora', r: 8, alpha: 16, dropout: 0 },
    train: defaultTrainConfig,
    trainExamples: 36,
    validationExamples: 4,
    validationHeldOut: true,
    task: 'classification',
  },
  status: 'starting',
  totalSteps: 0,
  trainableParams: 0,
  totalParams: 0,
  history: [],
  evals: [],
  error: null,
  outputs: [],
});

const progress = (step: number, elapsedMs: number): StepProgress => ({
  step,
  totalSteps: 10,
  loss: 0.7,
  lr: 0.01,
  gradNorm: 1,
  tokensPerSecond: 100,
  stepTimeMs: 5,
  gpuBytes: 1,
  peakGpuBytes: 1,
  trainableParams: 10,
  totalParams: 100,
  elapsedMs,
});

/** Scores from a confusion matrix, as the worker reports them for two classes. */
function scores(confusion: number[][]): ClassificationScores {
  const [[tn, fp], [fn, tp]] = confusion as [[number, number], [number, number]];
  const count = tn + fp + fn + tp;
  return {
    accuracy: (tn + tp) / count,
    f1: (2 * tp) / (2 * tp + fp + fn),
    f1Kind: 'binary',
    confusion,
    labels: ['0', '1'],
    count,
  };
}

describe('classification scores in a run record', () => {
  it('keeps every eval’s scores at its step’s training time, and the latest are the ones shown', async () => {
    const early = scores([
      [1, 1],
      [1, 1],
    ]);
    const late = scores([
      [2, 0],
      [0, 2],
    ]);
    let run = record('r1');
    for (const event of [
      { kind: 'progress' as const, runId: 'r1', progress: progress(5, 500) },
      { kind: 'eval' as const, runId: 'r1', step: 5, loss: 0.69, classification: early },
      // Another run's eval leaves this record alone.
      { kind: 'eval' as const, runId: 'r2', step: 5, loss: 0.1, classification: late },
      { kind: 'progress' as const, runId: 'r1', progress: progress(10, 1100) },
      { kind: 'eval' as const, runId: 'r1', step: 10, loss: 0.2, classification: late },
    ])
      run = applyEvent(run, event);
    expect(run.status).toBe('running');
    expect(run.evals).toEqual([
      { step: 5, loss: 0.69, elapsedMs: 500, classification: early },
      { step: 10, loss: 0.2, elapsedMs: 1100, classification: late },
    ]);
    expect(early.accuracy).toBe(0.5);
    expect(latestScores(run)).toMatchObject({ step: 10, accuracy: 1, f1: 1 });

    // A language model's eval has no scores, and no latest scores to show.
    const lm = applyEvent(record('lm'), { kind: 'eval', runId: 'lm', step: 3, loss: 2.5 });
    expect(lm.evals).toEqual([{ step: 3, loss: 2.5, elapsedMs: 0 }]);
    expect(latestScores(lm)).toBeUndefined();
    expect(lm.earlyStopping).toBeUndefined();
    // With early stopping, the record keeps the latest verdict.
    const verdict = { bestLoss: 2.1, bestStep: 2, improved: false, stop: true };
    const stopped = applyEvent(lm, { kind: 'eval', runId: 'lm', step: 4, loss: 2.6, earlyStopping: verdict });
    expect(stopped.earlyStopping).toEqual(verdict);

    // The history archive keeps the scores as they are.
    const archive = memoryRunArchive();
    await archive.save(run);
    const [kept] = await archive.list();
    expect(kept?.evals.map((e) => e.classification?.confusion)).toEqual([early.confusion, late.confusion]);
  });
});

describe("a DPO run's reference pass", () => {
  it('is kept while it runs, and the first step ends it', () => {
    let r = applyEvent(record('dpo'), { kind: 'preparing', runId: 'dpo', done: 4, total: 10 });
    expect(r.preparing).toEqual({ done: 4, total: 10 });
    expect(applyEvent(r, { kind: 'preparing', runId: 'other', done: 9, total: 10 })).toBe(r);
    r = applyEvent(r, { kind: 'preparing', runId: 'dpo', done: 10, total: 10 });
    r = applyEvent(r, { kind: 'progress', runId: 'dpo', progress: progress(1, 5) });
    expect(r.preparing).toBeUndefined();
    expect(r.status).toBe('running');
    expect(r.history).toHaveLength(1);
  });
});
