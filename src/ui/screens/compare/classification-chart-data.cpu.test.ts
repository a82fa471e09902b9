import { describe, expect, it } from 'vitest';
import type { ClassificationScores } from '../../../train/worker/protocol';
import type { ChartRun } from './chart-data';
import { classificationChartData, isClassificationRun, latestScores } from './classification-chart-data';

const scores = (accuracy: number, f1: number): ClassificationScores => ({
  accuracy,
  f1,
  f1Kind: 'binary',
  confusion: [
    [1, 0],
    [0, 1],
  ],
  labels: ['0', '1'],
  count: 2,
});

const run = (id: string, evals: ChartRun['evals']): ChartRun => ({
  id,
  label: id,
  color: '#000',
  totalSteps: 10,
  status: 'finished',
  history: [],
  evals,
});

describe('classification chart data', () => {
  const full = run('full', [
    { step: 3, loss: 0.7, elapsedMs: 300, classification: scores(0.5, 0.4) },
    { step: 6, loss: 0.5, elapsedMs: 600, classification: scores(0.75, 0.8) },
  ]);
  const lora = run('lora', [
    { step: 3, loss: 0.69, elapsedMs: 200, classification: scores(0.5, 0) },
    { step: 5, loss: 0.6, elapsedMs: 350, classification: scores(1, 1) },
  ]);
  const lm = run('lm', [{ step: 4, loss: 2.1, elapsedMs: 100 }]);

  it('charts accuracy and F1 per classification run on the shared eval steps, leaving language models out', () => {
    const { columns, series } = classificationChartData([full, lm, lora], 'step');
    expect(series.map((s) => `${s.runId}:${s.kind}`)).toEqual([
      'full:accuracy',
      'full:f1',
      'lora:accuracy',
      'lora:f1',
    ]);
    expect(columns).toEqual([
      [3, 5, 6],
      [0.5, null, 0.75],
      [0.4, null, 0.8],
      [0.5, 1, null],
      [0, 1, null],
    ]);
  });

  it('places evaluations by seconds of training on the time axis', () => {
    const { columns } = classificationChartData([full, lora], 'time');
    expect(columns[0]).toEqual([0.2, 0.3, 0.35, 0.6]);
    expect(columns[1]).toEqual([null, 0.5, null, 0.75]);
  });

  it('gives the latest scores with their step, and none for a language model', () => {
    expect(latestScores(full)).toMatchObject({ step: 6, accuracy: 0.75, f1: 0.8 });
    expect(latestScores(lm)).toBeUndefined();
    expect([isClassificationRun(full), isClassificationRun(lm)]).toEqual([true, false]);
  });
});
