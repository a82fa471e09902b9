/**
 * The live comparison: one chart with every run of this session (and, for DPO runs, their reward accuracy
 * and margin), the chart's switches, a card per run and, once runs have ended, the closing table. Everything here is drawn from worker events; nothing
 * in this panel computes training.
 */
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { isActive, type RunRecord } from '../../state/run-record';
import { useAppStore } from '../../state/store';
import { ChartControls } from './ChartControls';
import { ClassificationChart } from './ClassificationChart';
import { isClassificationRun } from './classification-chart-data';
import { ImportedAdapterEvaluations } from './ImportedAdapterEvaluations';
import { LossChart, type XAxis } from './LossChart';
import { isPreferenceRun } from './preference-chart-data';
import { RewardCharts } from './RewardCharts';
import { RunCard } from './RunCard';
import { RunSummaryTable } from './RunSummaryTable';

export function ComparePanel() {
  const runs = useAppStore(useShallow((s) => s.runOrder.map((id) => s.runs[id] as RunRecord)));
  const clearEndedRuns = useAppStore((s) => s.clearEndedRuns);
  const [xAxis, setXAxis] = useState<XAxis>('step');
  const [logScale, setLogScale] = useState(false);
  const ended = runs.filter((r) => !isActive(r.status));

  return (
    <section className="panel" aria-labelledby="compare-heading" data-testid="compare-panel">
      <h2 id="compare-heading">Compare</h2>
      {runs.length === 0 ? (
        <p className="muted">Start a run, or "SFT vs LoRA", to watch the runs' curves and metrics here.</p>
      ) : (
        <>
          <ChartControls
            name="live"
            xAxis={xAxis}
            logScale={logScale}
            onXAxis={setXAxis}
            onLogScale={setLogScale}
          />
          <LossChart runs={runs} xAxis={xAxis} logScale={logScale} title="Live runs" testId="live-chart" />
          {runs.some((r) => r.settings.task === 'classification' || isClassificationRun(r)) && (
            <ClassificationChart runs={runs} xAxis={xAxis} testId="live-scores-chart" />
          )}
          {runs.some((r) => r.settings.train.preference || isPreferenceRun(r)) && (
            <RewardCharts runs={runs} xAxis={xAxis} testIdPrefix="live" />
          )}
          <div className="run-cards">
            {runs.map((record) => (
              <RunCard key={record.id} record={record} />
            ))}
          </div>
          <p className="muted note">
            Every number is measured by the training worker at each step. GPU memory is what the training
            engine holds on the GPU for all the runs it is training together. The time left is an estimate
            from the measured step times.
          </p>
          {ended.length > 0 && (
            <>
              <RunSummaryTable runs={runs} caption="Side by side" />
              <button type="button" onClick={clearEndedRuns}>
                Clear ended runs (they stay in the history)
              </button>
            </>
          )}
        </>
      )}
      <ImportedAdapterEvaluations />
    </section>
  );
}
