/**
 * The closing comparison, one row per run, in the manner of PEFT's method comparison: final training and
 * validation loss, wall-clock time, peak GPU memory, output size and trainable share; for classifiers,
 * the final validation accuracy and F1 too, and for DPO runs the final reward accuracy and margin (on the
 * validation pairs when there are any, else at the last step). All measured.
 */
import { lastProgress, type RunRecord } from '../../state/run-record';
import { formatScore } from './ClassificationScores';
import { isClassificationRun, latestScores } from './classification-chart-data';
import { formatBytes, formatDuration, formatLoss, formatPercent } from './format-metric';
import { isPreferenceRun, latestRewards } from './preference-chart-data';

export function RunSummaryTable({ runs, caption }: { runs: RunRecord[]; caption: string }) {
  const classifiers = runs.some((run) => run.settings.task === 'classification' || isClassificationRun(run));
  const dpo = runs.some((run) => run.settings.train.preference || isPreferenceRun(run));
  return (
    <table className="summary">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          <th scope="col">Steps</th>
          <th scope="col">Final loss</th>
          <th scope="col">Final val. loss</th>
          {classifiers && (
            <>
              <th scope="col">Val. accuracy</th>
              <th scope="col">Val. F1</th>
            </>
          )}
          {dpo && (
            <>
              <th scope="col">Reward accuracy</th>
              <th scope="col">Reward margin</th>
            </>
          )}
          <th scope="col">Time</th>
          <th scope="col">Peak GPU memory (worker)</th>
          <th scope="col">Output</th>
          <th scope="col">Trainable</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => {
          const last = lastProgress(run);
          const lastEval = run.evals[run.evals.length - 1];
          const output = run.outputs.reduce((n, o) => n + o.bytes, 0);
          const scores = latestScores(run);
          const rewards = latestRewards(run);
          const reward = rewards.validation ?? rewards.train;
          return (
            <tr key={run.id} data-testid="summary-row" data-run-id={run.id}>
              <th scope="row">
                <span className="legend-swatch" style={{ background: run.color }} aria-hidden="true" />{' '}
                {run.label}
              </th>
              <td>{run.status}</td>
              <td>
                {last?.step ?? 0} / {run.totalSteps}
              </td>
              <td data-testid="summary-loss" data-loss={last?.loss ?? ''}>
                {last ? formatLoss(last.loss) : '—'}
              </td>
              <td data-loss={lastEval?.loss ?? ''}>{lastEval ? formatLoss(lastEval.loss) : '—'}</td>
              {classifiers && (
                <>
                  <td data-testid="summary-accuracy" data-accuracy={scores?.accuracy ?? ''}>
                    {scores ? formatScore(scores.accuracy) : '—'}
                  </td>
                  <td data-testid="summary-f1" data-f1={scores?.f1 ?? ''}>
                    {scores ? formatScore(scores.f1) : '—'}
                  </td>
                </>
              )}
              {dpo && (
                <>
                  <td
                    data-testid="summary-reward-accuracy"
                    data-reward-accuracy={reward?.rewardAccuracy ?? ''}
                  >
                    {reward ? formatScore(reward.rewardAccuracy) : '—'}
                  </td>
                  <td data-testid="summary-reward-margin" data-reward-margin={reward?.rewardMargin ?? ''}>
                    {reward ? reward.rewardMargin.toFixed(4) : '—'}
                  </td>
                </>
              )}
              <td>{last ? formatDuration(last.elapsedMs) : '—'}</td>
              <td>{last ? formatBytes(last.peakGpuBytes) : '—'}</td>
              <td>{output > 0 ? formatBytes(output) : '—'}</td>
              <td>{formatPercent(run.trainableParams, run.totalParams)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
