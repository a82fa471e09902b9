/**
 * DPO runs' rewards to the aligned columns uPlot draws, one metric at a time: the reward accuracy (the
 * share of pairs whose chosen reward is above the rejected one; TRL's rewards/accuracies) or the reward
 * margin (chosen reward − rejected reward; rewards/margins), where a reward is β × a response's
 * log-probability gain over the base model. Per DPO run: the training value at every step (a line) and
 * the validation value at every evaluation (points), in the loss chart's shape, so its options draw it.
 * Runs without rewards (SFT, classifiers, records from before DPO) are left out. Pure: tested without a DOM.
 */
import type { PreferenceMetrics } from '../../../train/objective';
import { alignedColumns, type ChartData, type ChartRun, type ChartSeries, type XAxis } from './chart-data';

export type RewardMetric = 'rewardAccuracy' | 'rewardMargin';

export const rewardMetricNames: Record<RewardMetric, string> = {
  rewardAccuracy: 'reward accuracy',
  rewardMargin: 'reward margin',
};

type Rewarded<P> = P & { preference: PreferenceMetrics };
const rewarded = <P extends { preference?: PreferenceMetrics }>(points: P[]): Rewarded<P>[] =>
  points.filter((p): p is Rewarded<P> => p.preference !== undefined);

/** Whether the run has measured any rewards (a DPO run, once it has stepped). */
export const isPreferenceRun = (run: Pick<ChartRun, 'history' | 'evals'>) =>
  run.history.some((p) => p.preference) || run.evals.some((e) => e.preference);

/** The run's latest training and validation rewards, each with its step; undefined where there are none. */
export function latestRewards(run: Pick<ChartRun, 'history' | 'evals'>): {
  train?: PreferenceMetrics & { step: number };
  validation?: PreferenceMetrics & { step: number };
} {
  const train = rewarded(run.history).at(-1);
  const validation = rewarded(run.evals).at(-1);
  return {
    ...(train ? { train: { ...train.preference, step: train.step } } : {}),
    ...(validation ? { validation: { ...validation.preference, step: validation.step } } : {}),
  };
}

export function rewardChartData(runs: ChartRun[], metric: RewardMetric, xAxis: XAxis): ChartData {
  const x = (p: { step: number; elapsedMs: number }) => (xAxis === 'step' ? p.step : p.elapsedMs / 1000);
  const shown = (y: number) => (Number.isFinite(y) ? y : null);
  const name = rewardMetricNames[metric];
  const raw: { series: ChartSeries; points: { x: number; y: number | null }[] }[] = [];
  for (const run of runs) {
    if (!isPreferenceRun(run)) continue;
    raw.push({
      series: { runId: run.id, kind: 'train', label: `${run.label} (training ${name})`, color: run.color },
      points: rewarded(run.history).map((p) => ({ x: x(p), y: shown(p.preference[metric]) })),
    });
    raw.push({
      series: { runId: run.id, kind: 'eval', label: `${run.label} (validation ${name})`, color: run.color },
      points: rewarded(run.evals).map((p) => ({ x: x(p), y: shown(p.preference[metric]) })),
    });
  }
  return alignedColumns(raw);
}
