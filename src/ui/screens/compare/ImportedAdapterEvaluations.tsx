/**
 * Kept adapters scored on a run's validation split (from the adapter library), set beside that run: a
 * row per evaluation with the run's own final validation loss and the adapter's, measured by the same
 * evaluation on the same rows, and a chart per run with the adapter's loss as a point at the run's final
 * step next to the run's curves; on a classifier's split, accuracy and F1 too; on a DPO run's split, the
 * loss is the DPO loss over its validation pairs and the reward accuracy and margin (the base model as the
 * reference, as TRL evaluates a PEFT model) stand beside the run's last ones. Every number is measured in
 * the training worker.
 */
import { useEffect, useMemo } from 'react';
import type { PreferenceMetrics } from '../../../train/objective';
import type { ClassificationScores } from '../../../train/worker/protocol';
import type { AdapterEvaluation } from '../../state/evaluation-store';
import type { RunRecord } from '../../state/run-record';
import { runColors } from '../../state/runs-slice';
import { useAppStore } from '../../state/store';
import { formatScore } from './ClassificationScores';
import type { ChartRun } from './chart-data';
import { formatLoss } from './format-metric';
import { LossChart } from './LossChart';

const scoresText = (scores: ClassificationScores | undefined) =>
  scores ? `${formatScore(scores.accuracy)} / ${formatScore(scores.f1)} (${scores.f1Kind})` : '—';

const rewardsText = (rewards: PreferenceMetrics | undefined) =>
  rewards ? `${formatScore(rewards.rewardAccuracy)} / ${formatLoss(rewards.rewardMargin)}` : '—';

const labelOf = (e: AdapterEvaluation) => `${e.imported ? 'imported' : 'kept'}: ${e.adapterName}`;

/** The run's curves and, for each evaluation against it, one validation point at its final step. */
function chartRuns(run: RunRecord, evaluations: AdapterEvaluation[]): ChartRun[] {
  const lastElapsed = run.history[run.history.length - 1]?.elapsedMs ?? 0;
  return [
    run,
    ...evaluations.map((e, i) => ({
      id: `evaluation-${e.id}`,
      label: `${labelOf(e)} (${e.preference ? 'DPO' : 'validation'} loss ${formatLoss(e.loss)})`,
      // A colour other than the run's, so the marker reads as another model.
      color: runColors[(runColors.indexOf(run.color) + 3 + i) % runColors.length] as string,
      history: [],
      evals: [{ step: e.runFinalStep, loss: e.loss, elapsedMs: lastElapsed }],
      totalSteps: run.totalSteps,
      status: 'finished' as const,
    })),
  ];
}

export function ImportedAdapterEvaluations() {
  const evaluations = useAppStore((s) => s.evaluations);
  const loadEvaluations = useAppStore((s) => s.loadEvaluations);
  const forgetEvaluation = useAppStore((s) => s.forgetEvaluation);
  const live = useAppStore((s) => s.runs);
  const past = useAppStore((s) => s.history.runs);
  useEffect(() => {
    void loadEvaluations();
  }, [loadEvaluations]);

  const byRun = useMemo(() => {
    const groups = new Map<string, { run: RunRecord | undefined; entries: AdapterEvaluation[] }>();
    for (const e of evaluations.entries) {
      const group = groups.get(e.runId) ?? {
        run: live[e.runId] ?? past.find((r) => r.id === e.runId),
        entries: [],
      };
      group.entries.push(e);
      groups.set(e.runId, group);
    }
    return [...groups.values()];
  }, [evaluations.entries, live, past]);

  if (evaluations.entries.length === 0 && !evaluations.error) return null;
  // Classifier splits also have accuracy and F1, DPO splits rewards; language-model splits only the loss.
  const scored = evaluations.entries.some((e) => e.classification);
  const rewarded = evaluations.entries.some((e) => e.preference);
  return (
    <section aria-labelledby="adapter-evaluations-heading" data-testid="adapter-evaluations">
      <h3 id="adapter-evaluations-heading">Adapters on a run's validation split</h3>
      {evaluations.error && (
        <p className="field-error" role="alert" data-testid="evaluations-error">
          {evaluations.error}
        </p>
      )}
      {evaluations.entries.length > 0 && (
        <table className="summary">
          <caption>
            Each adapter scored on the same held-out rows, with the run's own evaluation
            {rewarded ? " (on a DPO run's pairs, the loss is the DPO loss, against the base model)" : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Run (split)</th>
              <th scope="col">Val. loss</th>
              <th scope="col">Run's final val. loss</th>
              <th scope="col">Difference</th>
              {scored && <th scope="col">Accuracy / F1</th>}
              {scored && <th scope="col">Run's final accuracy / F1</th>}
              {rewarded && <th scope="col">Reward accuracy / margin</th>}
              {rewarded && <th scope="col">Run's final reward accuracy / margin</th>}
              <th scope="col">{rewarded ? 'Rows / pairs' : 'Rows'}</th>
              <th scope="col" aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {evaluations.entries.map((e) => (
              <tr key={e.id} data-testid="evaluation-row" data-run-id={e.runId} data-adapter-id={e.adapterId}>
                <th scope="row">{labelOf(e)}</th>
                <td>
                  <span className="legend-swatch" style={{ background: e.runColor }} aria-hidden="true" />{' '}
                  {e.runLabel} (step {e.runFinalStep})
                </td>
                <td data-testid="evaluation-loss" data-loss={e.loss}>
                  {formatLoss(e.loss)}
                </td>
                <td data-testid="evaluation-run-loss" data-loss={e.runFinalValLoss ?? ''}>
                  {e.runFinalValLoss === undefined ? '—' : formatLoss(e.runFinalValLoss)}
                </td>
                <td>{e.runFinalValLoss === undefined ? '—' : formatLoss(e.loss - e.runFinalValLoss)}</td>
                {scored && (
                  <td data-testid="evaluation-scores" data-accuracy={e.classification?.accuracy ?? ''}>
                    {scoresText(e.classification)}
                  </td>
                )}
                {scored && (
                  <td
                    data-testid="evaluation-run-scores"
                    data-accuracy={e.runFinalClassification?.accuracy ?? ''}
                  >
                    {scoresText(e.runFinalClassification)}
                  </td>
                )}
                {rewarded && (
                  <td
                    data-testid="evaluation-rewards"
                    data-reward-accuracy={e.preference?.rewardAccuracy ?? ''}
                    data-reward-margin={e.preference?.rewardMargin ?? ''}
                  >
                    {rewardsText(e.preference)}
                  </td>
                )}
                {rewarded && (
                  <td
                    data-testid="evaluation-run-rewards"
                    data-reward-accuracy={e.runFinalPreference?.rewardAccuracy ?? ''}
                    data-reward-margin={e.runFinalPreference?.rewardMargin ?? ''}
                  >
                    {rewardsText(e.runFinalPreference)}
                  </td>
                )}
                <td>{e.preference ? `${e.examples} pairs` : e.examples}</td>
                <td>
                  <button type="button" onClick={() => void forgetEvaluation(e.id)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {byRun.map(
        ({ run, entries }) =>
          run && (
            <LossChart
              key={run.id}
              runs={chartRuns(run, entries)}
              xAxis="step"
              logScale={false}
              title={`${run.label} with adapters scored on its validation split`}
              testId={`evaluation-chart-${run.id}`}
              compact
            />
          ),
      )}
    </section>
  );
}
