/**
 * A hand-drawn SVG chart of training loss (one line per run, in the run's colour) and validation loss
 * (hollow points), against step or wall-clock time, on a linear or log scale. Every value comes from
 * the worker's events; each curve carries its point count and last loss as data attributes, so tests
 * can compare the drawing with the numbers. Long series are decimated to the chart's pixel width.
 */
import { isActive, type RunRecord } from '../../state/run-record';
import {
  decimate,
  formatTick,
  linearTicks,
  linePath,
  logTicks,
  makeScale,
  type Point,
  paddedDomain,
} from './chart-geometry';
import { formatDuration, formatLoss } from './format-metric';

export type XAxis = 'step' | 'time';

export type ChartRun = Pick<
  RunRecord,
  'id' | 'label' | 'color' | 'history' | 'evals' | 'totalSteps' | 'status'
>;

interface LossChartProps {
  runs: ChartRun[];
  xAxis: XAxis;
  logScale: boolean;
  /** Names the chart for screen readers and tests. */
  title: string;
  testId?: string;
  compact?: boolean;
}

const size = { wide: { w: 640, h: 300 }, compact: { w: 480, h: 180 } };
const margin = { top: 12, right: 16, bottom: 40, left: 56 };

export function LossChart({ runs, xAxis, logScale, title, testId, compact = false }: LossChartProps) {
  const { w, h } = compact ? size.compact : size.wide;
  const plot = { x0: margin.left, x1: w - margin.right, y0: h - margin.bottom, y1: margin.top };
  const xOf = (p: { step: number; elapsedMs: number }) => (xAxis === 'step' ? p.step : p.elapsedMs / 1000);

  const series = runs.map((run) => ({
    run,
    line: run.history.map((p): Point => ({ x: xOf(p), y: p.loss })),
    evals: run.evals.map((e): Point => ({ x: xOf(e), y: e.loss })),
  }));
  const all = series.flatMap((s) => [...s.line, ...s.evals]);
  // Steps run to the planned total, so a curve shows how far its run has come; time has no known end,
  // so it runs a little past the latest point.
  const xMax =
    xAxis === 'step'
      ? Math.max(1, ...runs.map((r) => r.totalSteps), ...all.map((p) => p.x))
      : Math.max(1e-3, ...all.map((p) => p.x)) * 1.03;
  const xDomain = { min: 0, max: xMax };
  const yDomain = paddedDomain(
    all.map((p) => p.y),
    logScale,
  );
  const sx = makeScale(xDomain, [plot.x0, plot.x1], false);
  const sy = makeScale(yDomain, [plot.y0, plot.y1], logScale);
  const xTicks = linearTicks(xDomain, compact ? 4 : 6);
  const yTicks = logScale ? logTicks(yDomain) : linearTicks(yDomain, compact ? 4 : 5);
  const visible = (p: Point) => Number.isFinite(p.y) && (!logScale || p.y > 0);
  const xName = xAxis === 'step' ? 'step' : 'wall-clock time (s)';

  const summary = runs
    .map((run) => {
      const last = run.history[run.history.length - 1];
      return `${run.label}: ${run.history.length} steps${last ? `, last loss ${formatLoss(last.loss)}` : ''}`;
    })
    .join('; ');

  return (
    <figure className={compact ? 'loss-chart compact' : 'loss-chart'} data-testid={testId}>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`${title}, training loss against ${xName}${logScale ? ' (log scale)' : ''}. ${summary || 'No steps yet.'}`}
        data-x-axis={xAxis}
        data-log-scale={logScale}
      >
        <g className="chart-grid">
          {yTicks.map((t) => (
            <g key={`y${t}`}>
              <line x1={plot.x0} x2={plot.x1} y1={sy(t)} y2={sy(t)} />
              <text x={plot.x0 - 6} y={sy(t)} textAnchor="end" dominantBaseline="middle">
                {formatTick(t, yTicks)}
              </text>
            </g>
          ))}
          {xTicks.map((t) => (
            <g key={`x${t}`}>
              <line x1={sx(t)} x2={sx(t)} y1={plot.y0} y2={plot.y1} />
              <text x={sx(t)} y={plot.y0 + 16} textAnchor="middle">
                {formatTick(t, xTicks)}
              </text>
            </g>
          ))}
          <text className="axis-name" x={(plot.x0 + plot.x1) / 2} y={h - 6} textAnchor="middle">
            {xName}
          </text>
          <text
            className="axis-name"
            transform={`translate(14 ${(plot.y0 + plot.y1) / 2}) rotate(-90)`}
            textAnchor="middle"
          >
            loss{logScale ? ' (log)' : ''}
          </text>
        </g>
        {all.length === 0 && (
          <text
            className="chart-empty"
            x={(plot.x0 + plot.x1) / 2}
            y={(plot.y0 + plot.y1) / 2}
            textAnchor="middle"
          >
            {runs.some((run) => isActive(run.status))
              ? 'Waiting for the first step…'
              : 'No steps were taken.'}
          </text>
        )}
        {series.map(({ run, line, evals }) => {
          const drawn = decimate(line.filter(visible), plot.x1 - plot.x0);
          const last = drawn[drawn.length - 1];
          const lastLoss = run.history[run.history.length - 1]?.loss;
          return (
            <g key={run.id} style={{ color: run.color }}>
              <path
                className="chart-line"
                d={linePath(drawn, sx, sy)}
                data-testid={`curve-${run.id}`}
                data-run-id={run.id}
                data-point-count={run.history.length}
                data-last-loss={lastLoss ?? ''}
              />
              {last && <circle className="chart-last" cx={sx(last.x)} cy={sy(last.y)} r={3} />}
              {evals.filter(visible).map((p) => (
                <circle
                  key={`${p.x}:${p.y}`}
                  className="chart-eval"
                  cx={sx(p.x)}
                  cy={sy(p.y)}
                  r={4.5}
                  data-testid="eval-point"
                  data-run-id={run.id}
                  data-loss={p.y}
                >
                  <title>
                    {run.label}: validation loss {formatLoss(p.y)} at{' '}
                    {xAxis === 'step' ? `step ${p.x}` : formatDuration(p.x * 1000)}
                  </title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption className="chart-legend">
        <ul>
          {runs.map((run) => (
            <li key={run.id}>
              <span className="legend-swatch" style={{ background: run.color }} aria-hidden="true" />
              {run.label}
            </li>
          ))}
        </ul>
        <span className="muted legend-key">
          Line: training loss per step. Hollow points: validation loss.
        </span>
      </figcaption>
    </figure>
  );
}
