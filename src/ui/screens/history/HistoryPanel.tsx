/**
 * Past runs, kept in IndexedDB: one entry per comparison (the runs one action started), newest first,
 * with the curves (a classifier's validation accuracy and F1, a DPO run's reward accuracy and margin) and
 * the closing table as they were measured. Runs still on the live comparison are left out here, so nothing is shown twice.
 */
import { useState } from 'react';
import type { RunRecord } from '../../state/run-record';
import { useAppStore } from '../../state/store';
import { ChartControls } from '../compare/ChartControls';
import { ClassificationChart } from '../compare/ClassificationChart';
import { isClassificationRun } from '../compare/classification-chart-data';
import { LossChart, type XAxis } from '../compare/LossChart';
import { isPreferenceRun } from '../compare/preference-chart-data';
import { RewardCharts } from '../compare/RewardCharts';
import { RunSummaryTable } from '../compare/RunSummaryTable';

function groups(runs: RunRecord[]): RunRecord[][] {
  const byGroup = new Map<string, RunRecord[]>();
  for (const run of runs) byGroup.set(run.groupId, [...(byGroup.get(run.groupId) ?? []), run]);
  return [...byGroup.values()]
    .map((group) => group.sort((a, b) => a.groupIndex - b.groupIndex))
    .sort((a, b) => (b[0]?.createdAt ?? 0) - (a[0]?.createdAt ?? 0));
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function HistoryPanel() {
  const history = useAppStore((s) => s.history);
  const live = useAppStore((s) => s.runs);
  const forgetRun = useAppStore((s) => s.forgetRun);
  const resumeStoredRun = useAppStore((s) => s.resumeStoredRun);
  const checkpointProblems = useAppStore((s) => s.checkpointProblems);
  const [xAxis, setXAxis] = useState<XAxis>('step');
  const [logScale, setLogScale] = useState(false);
  const past = groups(history.runs.filter((run) => !(run.id in live)));

  return (
    <section className="panel" aria-labelledby="history-heading" data-testid="history-panel">
      <h2 id="history-heading">History</h2>
      {history.status === 'unavailable' && (
        <p className="field-error" role="alert">
          {history.error}
        </p>
      )}
      {history.status === 'loading' ? (
        <p className="muted">Reading past runs…</p>
      ) : past.length === 0 ? (
        <p className="muted">Runs you finish are kept here, in this browser, with their curves.</p>
      ) : (
        <>
          <ChartControls
            name="history"
            xAxis={xAxis}
            logScale={logScale}
            onXAxis={setXAxis}
            onLogScale={setLogScale}
          />
          {past.map((group) => {
            const first = group[0] as RunRecord;
            const title = group.map((r) => r.label).join(' vs ');
            return (
              <article key={first.groupId} className="history-entry" data-testid="history-entry">
                <h3>
                  {title} <small className="muted">{when.format(first.createdAt)}</small>
                </h3>
                <p className="muted">
                  {first.settings.modelLabel} · {first.settings.train.steps} steps · batch{' '}
                  {first.settings.train.batchSize} × {first.settings.train.seqLen} tokens · lr{' '}
                  {group.map((r) => r.settings.train.lr).join(' / ')} · {first.settings.trainExamples}{' '}
                  training examples
                </p>
                <LossChart
                  runs={group}
                  xAxis={xAxis}
                  logScale={logScale}
                  title={title}
                  compact
                  testId="history-chart"
                />
                {group.some(isClassificationRun) && (
                  <ClassificationChart runs={group} xAxis={xAxis} compact testId="history-scores-chart" />
                )}
                {group.some(isPreferenceRun) && (
                  <RewardCharts runs={group} xAxis={xAxis} compact testIdPrefix="history" />
                )}
                <RunSummaryTable runs={group} caption="As measured" />
                {group
                  .filter((run) => run.status === 'interrupted')
                  .map((run) => (
                    <p
                      key={run.id}
                      className="history-interrupted"
                      data-testid="history-interrupted"
                      data-run-id={run.id}
                    >
                      {run.label} was interrupted{run.error ? `: ${run.error.message}` : '.'}{' '}
                      {run.checkpointStep ? (
                        <button
                          type="button"
                          data-testid="history-resume"
                          onClick={() => void resumeStoredRun(run.id)}
                        >
                          Resume from step {run.checkpointStep}
                        </button>
                      ) : null}
                      {checkpointProblems[run.id] && (
                        <span className="field-error" role="alert">
                          {checkpointProblems[run.id]}
                        </span>
                      )}
                    </p>
                  ))}
                <button type="button" onClick={() => group.forEach((run) => void forgetRun(run.id))}>
                  Forget this comparison
                </button>
              </article>
            );
          })}
        </>
      )}
    </section>
  );
}
