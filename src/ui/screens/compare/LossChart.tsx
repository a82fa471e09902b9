/**
 * Training loss (a line per run, in the run's colour) and validation loss (points in the same colour)
 * against step or seconds of training, on a linear or log scale, drawn by uPlot on a canvas so it stays
 * smooth at 10,000 points per series (use-uplot.ts rebuilds it only when the axis, scale or runs
 * change). Every value comes from the worker's events; a list under the chart states each run's point
 * count and last loss (for screen readers, and for tests to compare the drawing with the numbers).
 */
import { useMemo } from 'react';
import { isActive } from '../../state/run-record';
import { type ChartRun, chartData, type XAxis } from './chart-data';
import { lossChartOptions as options } from './chart-options';
import { formatLoss } from './format-metric';
import { useUplot } from './use-uplot';

export type { ChartRun, XAxis } from './chart-data';

interface LossChartProps {
  runs: ChartRun[];
  xAxis: XAxis;
  logScale: boolean;
  /** Names the chart for screen readers and tests. */
  title: string;
  testId?: string;
  compact?: boolean;
}

export function LossChart({ runs, xAxis, logScale, title, testId, compact = false }: LossChartProps) {
  const data = useMemo(() => chartData(runs, xAxis, logScale), [runs, xAxis, logScale]);
  const height = compact ? 180 : 300;
  const shape = `${xAxis}|${logScale}|${height}|${data.series.map((s) => `${s.runId}:${s.kind}:${s.color}`).join(',')}`;
  const host = useUplot(data, shape, (now, width) => options(now, xAxis, logScale, width, height));

  const points = data.columns[0].length;
  const xName = xAxis === 'step' ? 'step' : 'training time';
  return (
    <figure
      className={compact ? 'loss-chart compact' : 'loss-chart'}
      data-testid={testId}
      data-x-axis={xAxis}
      data-log-scale={logScale}
    >
      <div
        ref={host}
        className="loss-chart-plot"
        role="img"
        aria-label={`${title}: training loss against ${xName}${logScale ? ' (log scale)' : ''}.`}
      />
      {points === 0 && (
        <p className="chart-empty muted">
          {runs.some((run) => isActive(run.status)) ? 'Waiting for the first step…' : 'No steps were taken.'}
        </p>
      )}
      <figcaption className="chart-legend">
        <ul>
          {runs.map((run) => {
            const last = run.history[run.history.length - 1];
            return (
              <li
                key={run.id}
                data-testid={`curve-${run.id}`}
                data-run-id={run.id}
                data-point-count={run.history.length}
                data-eval-count={run.evals.length}
                data-last-loss={last?.loss ?? ''}
              >
                <span className="legend-swatch" style={{ background: run.color }} aria-hidden="true" />
                {run.label}
                <span className="muted">
                  {' '}
                  · {run.history.length} steps{last ? `, last loss ${formatLoss(last.loss)}` : ''}
                  {run.evals.length > 0
                    ? `, validation ${formatLoss((run.evals[run.evals.length - 1] as { loss: number }).loss)}`
                    : ''}
                </span>
              </li>
            );
          })}
        </ul>
        <span className="muted legend-key">
          Line: training loss per step. Hollow points: validation loss.
        </span>
      </figcaption>
    </figure>
  );
}
