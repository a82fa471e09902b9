/**
 * Run histories to the aligned columns uPlot draws: one shared, sorted x column (steps, or seconds of
 * training) and, per run, a training-loss column and a validation-loss column, null where that run has
 * no point at that x. Points a log scale cannot show (zero, negative) and non-finite losses are null,
 * so a diverged run leaves a gap rather than breaking the chart. Pure: tested without a DOM.
 */
import type { RunRecord } from '../../state/run-record';

export type XAxis = 'step' | 'time';

export type ChartRun = Pick<
  RunRecord,
  'id' | 'label' | 'color' | 'history' | 'evals' | 'totalSteps' | 'status'
>;

export interface ChartSeries {
  runId: string;
  kind: 'train' | 'eval';
  label: string;
  color: string;
}

export interface ChartData {
  /** [x, ...one column per series], as uPlot.AlignedData. */
  columns: [number[], ...(number | null)[][]];
  series: ChartSeries[];
}

/** Series of (x, y) points, each with what names it, as uPlot's aligned columns. */
export function alignedColumns<S>(raw: { series: S; points: { x: number; y: number | null }[] }[]): {
  columns: [number[], ...(number | null)[][]];
  series: S[];
} {
  const xs = [...new Set(raw.flatMap((r) => r.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((value, i) => [value, i]));
  const columns = raw.map((r) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of r.points) column[index.get(p.x) as number] = p.y;
    return column;
  });
  return { columns: [xs, ...columns], series: raw.map((r) => r.series) };
}

const xOf = (xAxis: XAxis) => (p: { step: number; elapsedMs: number }) =>
  xAxis === 'step' ? p.step : p.elapsedMs / 1000;

export function chartData(runs: ChartRun[], xAxis: XAxis, logScale: boolean): ChartData {
  const x = xOf(xAxis);
  const shown = (y: number) => (Number.isFinite(y) && (!logScale || y > 0) ? y : null);
  const raw: { series: ChartSeries; points: { x: number; y: number | null }[] }[] = [];
  for (const run of runs) {
    raw.push({
      series: { runId: run.id, kind: 'train', label: `${run.label} (training)`, color: run.color },
      points: run.history.map((p) => ({ x: x(p), y: shown(p.loss) })),
    });
    raw.push({
      series: { runId: run.id, kind: 'eval', label: `${run.label} (validation)`, color: run.color },
      points: run.evals.map((p) => ({ x: x(p), y: shown(p.loss) })),
    });
  }
  return alignedColumns(raw);
}
