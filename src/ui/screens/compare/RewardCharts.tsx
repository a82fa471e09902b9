/**
 * A DPO run's rewards beside its loss: the reward accuracy (the share of pairs whose chosen response the
 * model now prefers, relative to the base model, over the rejected one; fixed 0–1 scale) and the reward
 * margin, each with a line per run for training (per step) and hollow points for validation (per
 * evaluation), in the run's colour, drawn by uPlot as the loss chart is. Nothing shows for runs without
 * rewards. A list under each chart states each run's latest values (for screen readers, and for tests to
 * compare the drawing with what the worker measured).
 */
import { useMemo } from 'react';
import { formatScore } from './ClassificationScores';
import type { ChartRun, XAxis } from './chart-data';
import { lossChartOptions } from './chart-options';
import {
  isPreferenceRun,
  latestRewards,
  type RewardMetric,
  rewardChartData,
  rewardMetricNames,
} from './preference-chart-data';
import { useUplot } from './use-uplot';

const formats: Record<RewardMetric, (v: number) => string> = {
  rewardAccuracy: formatScore,
  rewardMargin: (v) => (Number.isFinite(v) ? v.toFixed(4) : String(v)),
};

const captions: Record<RewardMetric, string> = {
  rewardAccuracy:
    'Reward accuracy: the share of pairs whose chosen response gained more over the base model than the rejected one.',
  rewardMargin:
    'Reward margin: the chosen reward minus the rejected, where a reward is β × the log-probability gained over the base model.',
};

interface RewardChartProps {
  runs: ChartRun[];
  metric: RewardMetric;
  xAxis: XAxis;
  testId?: string;
  compact?: boolean;
}

export function RewardChart({ runs, metric, xAxis, testId, compact = false }: RewardChartProps) {
  const data = useMemo(() => rewardChartData(runs, metric, xAxis), [runs, metric, xAxis]);
  const height = compact ? 160 : 220;
  const shape = `${metric}|${xAxis}|${height}|${data.series.map((s) => `${s.runId}:${s.kind}:${s.color}`).join(',')}`;
  const name = rewardMetricNames[metric];
  const y = { label: name, ...(metric === 'rewardAccuracy' ? { range: [0, 1] as [number, number] } : {}) };
  const host = useUplot(data, shape, (now, width) =>
    now.series.length === 0 ? null : lossChartOptions(now, xAxis, false, width, height, y),
  );
  const rewardedRuns = runs.filter(isPreferenceRun);
  const format = formats[metric];
  return (
    <figure
      className={compact ? 'loss-chart compact' : 'loss-chart'}
      data-testid={testId}
      data-metric={metric}
      data-x-axis={xAxis}
    >
      <div
        ref={host}
        className="loss-chart-plot"
        role="img"
        aria-label={`Training and validation ${name} against ${xAxis === 'step' ? 'step' : 'training time'}.`}
      />
      {data.columns[0].length === 0 && <p className="chart-empty muted">Waiting for the first step…</p>}
      <figcaption className="chart-legend">
        <strong>{name[0]?.toUpperCase() + name.slice(1)}</strong>
        <ul>
          {rewardedRuns.map((run) => {
            const { train, validation } = latestRewards(run);
            return (
              <li
                key={run.id}
                data-testid={`${metric}-${run.id}`}
                data-run-id={run.id}
                data-point-count={run.history.filter((p) => p.preference).length}
                data-eval-count={run.evals.filter((e) => e.preference).length}
                data-last={train?.[metric] ?? ''}
                data-last-validation={validation?.[metric] ?? ''}
              >
                <span className="legend-swatch" style={{ background: run.color }} aria-hidden="true" />
                {run.label}
                <span className="muted">
                  {train ? ` · ${format(train[metric])} at step ${train.step}` : ''}
                  {validation ? `, validation ${format(validation[metric])}` : ''}
                </span>
              </li>
            );
          })}
        </ul>
        <span className="muted legend-key">
          {captions[metric]} Line: training, per step. Hollow points: validation.
        </span>
      </figcaption>
    </figure>
  );
}

/** Both reward charts, for the runs that have rewards. */
export function RewardCharts({
  runs,
  xAxis,
  testIdPrefix,
  compact = false,
}: {
  runs: ChartRun[];
  xAxis: XAxis;
  /** Test ids `${prefix}-reward-accuracy-chart` and `${prefix}-reward-margin-chart`. */
  testIdPrefix: string;
  compact?: boolean;
}) {
  return (
    <div className="reward-charts" data-testid={`${testIdPrefix}-reward-charts`}>
      <RewardChart
        runs={runs}
        metric="rewardAccuracy"
        xAxis={xAxis}
        compact={compact}
        testId={`${testIdPrefix}-reward-accuracy-chart`}
      />
      <RewardChart
        runs={runs}
        metric="rewardMargin"
        xAxis={xAxis}
        compact={compact}
        testId={`${testIdPrefix}-reward-margin-chart`}
      />
    </div>
  );
}
