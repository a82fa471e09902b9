import { describe, expect, it } from 'vitest';
import type { StepProgress } from '../../../train/worker/protocol';
import { type ChartRun, chartData } from './chart-data';

const step = (s: number, loss: number, elapsedMs: number) => ({ step: s, loss, elapsedMs }) as StepProgress;

const run = (id: string, losses: number[], msPerStep: number, evals: ChartRun['evals'] = []): ChartRun => ({
  id,
  label: id,
  color: '#000',
  totalSteps: losses.length,
  status: 'running',
  history: losses.map((loss, i) => step(i + 1, loss, (i + 1) * msPerStep)),
  evals,
});

describe('chart data', () => {
  it('aligns runs on a shared step column, with validation points at their steps', () => {
    const a = run('a', [3, 2, 1], 100, [{ step: 2, loss: 2.5, elapsedMs: 200 }]);
    const b = run('b', [4, 3], 150);
    const { columns, series } = chartData([a, b], 'step', false);
    expect(columns[0]).toEqual([1, 2, 3]);
    expect(series.map((s) => `${s.runId}:${s.kind}`)).toEqual(['a:train', 'a:eval', 'b:train', 'b:eval']);
    expect(columns.slice(1)).toEqual([
      [3, 2, 1],
      [null, 2.5, null],
      [4, 3, null],
      [null, null, null],
    ]);
  });

  it('places points by seconds of training on the time axis, merging both runs’ times', () => {
    const { columns } = chartData([run('a', [3, 2], 100), run('b', [4, 3], 150)], 'time', false);
    expect(columns[0]).toEqual([0.1, 0.15, 0.2, 0.3]);
    expect(columns[1]).toEqual([3, null, 2, null]);
    expect(columns[3]).toEqual([null, 4, null, 3]);
  });

  it('leaves gaps for losses a log scale cannot draw and for non-finite losses', () => {
    const { columns } = chartData([run('a', [2, 0, Number.NaN, 1], 10)], 'step', true);
    expect(columns[1]).toEqual([2, null, null, 1]);
    expect(chartData([run('a', [2, 0], 10)], 'step', false).columns[1]).toEqual([2, 0]);
  });

  it('builds 10,000 points for each of two runs quickly', () => {
    const losses = Array.from({ length: 10_000 }, (_, i) => 5 / (1 + i));
    const started = performance.now();
    const { columns } = chartData([run('a', losses, 7), run('b', losses, 11)], 'time', true);
    const ms = performance.now() - started;
    expect(columns[1]?.filter((v) => v !== null)).toHaveLength(10_000);
    expect(columns[3]?.filter((v) => v !== null)).toHaveLength(10_000);
    // Rebuilt on every progress event: it must stay well inside a frame's budget at this size.
    expect(ms).toBeLessThan(250);
  });
});
