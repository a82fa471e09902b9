// A DPO run's record keeps the rewards the worker sent with each step and evaluation, and its reward
// charts, card and summary read them back; a record from before DPO (no rewards) reads as it always did.
import { describe, expect, it } from 'vitest';
import type { PreferenceMetrics } from '../../../train/objective';
import { defaultTrainConfig } from '../../../train/train-config';
import type { StepProgress } from '../../../train/worker/protocol';
import { applyEvent, type RunRecord } from '../../state/run-record';
import { isPreferenceRun, latestRewards, rewardChartData } from './preference-chart-data';

const rewards = (accuracy: number, margin: number): PreferenceMetrics => ({
  chosenReward: margin / 2,
  rejectedReward: -margin / 2,
  rewardAccuracy: accuracy,
  rewardMargin: margin,
  chosenLogp: -4,
  rejectedLogp: -6,
});

const progress = (step: number, preference?: PreferenceMetrics): StepProgress => ({
  step,
  totalSteps: 3,
  loss: 0.69,
  lr: 1e-3,
  gradNorm: 1,
  tokensPerSecond: 1,
  stepTimeMs: 1,
  gpuBytes: 1,
  peakGpuBytes: 1,
  trainableParams: 1,
  totalParams: 2,
  elapsedMs: step * 100,
  ...(preference ? { preference } : {}),
});

const record = (id: string, preference?: { beta: number }): RunRecord => ({
  id,
  groupId: 'g',
  groupIndex: 0,
  label: id,
  color: '#000',
  createdAt: 1,
  settings: {
    modelId: 'builtin-tiny-llama',
    modelLabel: 'tiny',
    method: { method: 'lora', r: 8, alpha: 16, dropout: 0 },
    train: { ...defaultTrainConfig, ...(preference ? { preference } : {}) },
    trainExamples: 9,
    validationExamples: 1,
    validationHeldOut: true,
  },
  status: 'running',
  totalSteps: 3,
  trainableParams: 0,
  totalParams: 0,
  history: [],
  evals: [],
  error: null,
  outputs: [],
});

function dpoRun(): RunRecord {
  let run = record('dpo', { beta: 0.1 });
  for (const [step, accuracy, margin] of [
    [1, 0.5, 0],
    [2, 1, 0.02],
    [3, 1, 0.05],
  ] as const)
    run = applyEvent(run, {
      kind: 'progress',
      runId: 'dpo',
      progress: progress(step, rewards(accuracy, margin)),
    });
  return applyEvent(run, {
    kind: 'eval',
    runId: 'dpo',
    step: 2,
    loss: 0.68,
    preference: rewards(0.75, 0.01),
  });
}

describe('DPO rewards in the record and the charts', () => {
  it('keeps each step’s and evaluation’s rewards, and the latest of each', () => {
    const run = dpoRun();
    expect(run.history.map((p) => p.preference?.rewardAccuracy)).toEqual([0.5, 1, 1]);
    expect(run.evals).toEqual([{ step: 2, loss: 0.68, elapsedMs: 200, preference: rewards(0.75, 0.01) }]);
    expect(isPreferenceRun(run)).toBe(true);
    expect(latestRewards(run)).toEqual({
      train: { ...rewards(1, 0.05), step: 3 },
      validation: { ...rewards(0.75, 0.01), step: 2 },
    });
  });

  it('charts training rewards per step and validation rewards per evaluation, SFT runs left out', () => {
    let sft = record('sft');
    sft = applyEvent(sft, { kind: 'progress', runId: 'sft', progress: progress(1) });
    const accuracy = rewardChartData([dpoRun(), sft], 'rewardAccuracy', 'step');
    expect(accuracy.columns[0]).toEqual([1, 2, 3]);
    expect(accuracy.series.map((s) => `${s.runId}:${s.kind}`)).toEqual(['dpo:train', 'dpo:eval']);
    expect(accuracy.columns.slice(1)).toEqual([
      [0.5, 1, 1],
      [null, 0.75, null],
    ]);
    const margin = rewardChartData([dpoRun()], 'rewardMargin', 'time');
    expect(margin.columns[0]).toEqual([0.1, 0.2, 0.3]);
    expect(margin.columns.slice(1)).toEqual([
      [0, 0.02, 0.05],
      [null, 0.01, null],
    ]);
  });

  it('reads a record from before DPO as it always did: no rewards, no reward series', () => {
    // As IndexedDB hands back an old record: no `preference` anywhere.
    const old = JSON.parse(
      JSON.stringify({
        ...record('old'),
        history: [progress(1), progress(2)],
        evals: [{ step: 2, loss: 1.5, elapsedMs: 200 }],
      }),
    ) as RunRecord;
    expect(isPreferenceRun(old)).toBe(false);
    expect(latestRewards(old)).toEqual({});
    expect(rewardChartData([old], 'rewardAccuracy', 'step').series).toEqual([]);
    const next = applyEvent(old, { kind: 'eval', runId: 'old', step: 3, loss: 1.4 });
    expect(next.evals.at(-1)).toEqual({ step: 3, loss: 1.4, elapsedMs: 200 });
  });
});
