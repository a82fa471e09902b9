/**
 * "Validation accuracy / F1": for each classification run, its validation accuracy (solid line) and F1
 * (dashed line) in the run's colour at every evaluation, against step or seconds of training, on a fixed
 * 0–1 scale, drawn by uPlot beside the loss chart. Nothing shows for language-model runs. A list under
 * the chart states each run's latest accuracy and F1 (for screen readers, and for tests to compare the
 * drawing with the numbers the worker measured).
 */
import { useMemo } from 'react';
import type uPlot from 'uplot';
import { formatScore } from './ClassificationScores';
import type { ChartRun, XAxis } from './chart-data';
import { classificationChartData, latestScores, type ScoreChartData } from './classification-chart-data';
import { formatDuration } from './format-metric';
import { useUplot } from './use-uplot';

function options(data: ScoreChartData, xAxis: XAxis, width: number, height: number): uPlot.Options {
  return {
    width,
    height,
    legend: { show: false },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [
      {
        label: xAxis === 'step' ? 'step' : 'training time',
        stroke: 'currentColor',
        grid: { stroke: 'rgba(128,128,128,0.2)' },
        ...(xAxis === 'time'
          ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => formatDuration(t * 1000)) }
          : {}),
      },
      {
        label: 'validation accuracy / F1',
        stroke: 'currentColor',
        grid: { stroke: 'rgba(128,128,128,0.2)' },
      },
    ],
    series: [
      {},
      ...data.series.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: true,
          ...(s.kind === 'f1' ? { dash: [6, 4] } : {}),
          points: { show: true, size: 6, stroke: s.color, fill: s.kind === 'f1' ? 'transparent' : s.color },
        }),
      ),
    ],
  };
}

export function ClassificationChart({
  runs,
  xAxis,
  testId,
  compact = false,
}: {
  runs: ChartRun[];
  xAxis: XAxis;
  testId?: string;
  /** The history's smaller chart. */
  compact?: boolean;
}) {
  const data = useMemo(() => classificationChartData(runs, xAxis), [runs, xAxis]);
  const height = compact ? 180 : 240;
  const shape = `${xAxis}|${height}|${data.series.map((s) => `${s.runId}:${s.kind}:${s.color}`).join(',')}`;
  const host = useUplot(data, shape, (now, width) =>
    now.series.length === 0 ? null : options(now, xAxis, width, height),
  );

  const scoredRuns = runs.filter((run) => data.series.some((s) => s.runId === run.id));
  return (
    <figure
      className={compact ? 'loss-chart compact' : 'loss-chart'}
      data-testid={testId}
      data-x-axis={xAxis}
    >
      <div
        ref={host}
        className="loss-chart-plot"
        role="img"
        aria-label={`Validation accuracy and F1 against ${xAxis === 'step' ? 'step' : 'training time'}.`}
      />
      {data.columns[0].length === 0 && <p className="chart-empty muted">Waiting for the first evaluation…</p>}
      <figcaption className="chart-legend">
        <strong>Validation accuracy and F1</strong>
        <ul>
          {scoredRuns.map((run) => {
            const last = latestScores(run);
            return (
              <li
                key={run.id}
                data-testid={`scores-${run.id}`}
                data-run-id={run.id}
                data-eval-count={run.evals.filter((e) => e.classification).length}
                data-accuracy={last?.accuracy ?? ''}
                data-f1={last?.f1 ?? ''}
              >
                <span className="legend-swatch" style={{ background: run.color }} aria-hidden="true" />
                {run.label}
                {last && (
                  <span className="muted">
                    {' '}
                    · accuracy {formatScore(last.accuracy)}, F1 {formatScore(last.f1)} at step {last.step}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
        <span className="muted legend-key">
          Solid line: validation accuracy. Dashed line: validation F1 (binary F1 of the second class for two
          classes, macro F1 for more).
        </span>
      </figcaption>
    </figure>
  );
}
