/**
 * Classification runs' evaluations to the aligned columns uPlot draws: one shared, sorted x column (the
 * steps the evaluations followed, or seconds of training) and, per classification run, a validation
 * accuracy column and a validation F1 column, null where that run has no evaluation at that x. Runs
 * without classification scores (language models) are left out. Also the latest scores of a run, for
 * its card and the summary table. Pure: tested without a DOM.
 */
import type { ClassificationScores } from '../../../train/worker/protocol';
import type { EvalPoint } from '../../state/run-record';
import { alignedColumns, type ChartRun, type XAxis } from './chart-data';

export interface ScoreSeries {
  runId: string;
  kind: 'accuracy' | 'f1';
  label: string;
  color: string;
}

export interface ScoreChartData {
  /** [x, ...one column per series], as uPlot.AlignedData. */
  columns: [number[], ...(number | null)[][]];
  series: ScoreSeries[];
}

type Scored = EvalPoint & { classification: ClassificationScores };

const scored = (evals: EvalPoint[]): Scored[] =>
  evals.filter((e): e is Scored => e.classification !== undefined);

/** The run's most recent evaluation with classification scores, or undefined (a language model, or none yet). */
export function latestScores(
  run: Pick<ChartRun, 'evals'>,
): (ClassificationScores & { step: number }) | undefined {
  const last = scored(run.evals).at(-1);
  return last && { ...last.classification, step: last.step };
}

export const isClassificationRun = (run: Pick<ChartRun, 'evals'>) => run.evals.some((e) => e.classification);

export function classificationChartData(runs: ChartRun[], xAxis: XAxis): ScoreChartData {
  const x = (p: EvalPoint) => (xAxis === 'step' ? p.step : p.elapsedMs / 1000);
  const shown = (y: number) => (Number.isFinite(y) ? y : null);
  const raw: { series: ScoreSeries; points: { x: number; y: number | null }[] }[] = [];
  for (const run of runs) {
    const points = scored(run.evals);
    if (points.length === 0) continue;
    raw.push({
      series: { runId: run.id, kind: 'accuracy', label: `${run.label} (accuracy)`, color: run.color },
      points: points.map((p) => ({ x: x(p), y: shown(p.classification.accuracy) })),
    });
    raw.push({
      series: { runId: run.id, kind: 'f1', label: `${run.label} (F1)`, color: run.color },
      points: points.map((p) => ({ x: x(p), y: shown(p.classification.f1) })),
    });
  }
  return alignedColumns(raw);
}
