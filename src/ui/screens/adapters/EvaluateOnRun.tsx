/**
 * "Evaluate on a run's validation split" for one kept adapter: pick an ended run of this session (its
 * spec is in memory) or of an earlier session (its spec was kept in IndexedDB; offered when its dataset
 * and model are still here, otherwise listed with why not) and score the adapter there. The measured loss
 * (and a classifier's accuracy and F1, or a DPO run's DPO loss, reward accuracy and margin on its
 * validation pairs) shows here and in the compare view beside the run's own.
 */
import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AdapterEntry } from '../../state/adapter-store';
import { exportedJobChoices, historyChoices } from '../../state/evaluable-history';
import type { AdapterEvaluation } from '../../state/evaluation-store';
import { evaluableRuns, pendingKey } from '../../state/evaluations-slice';
import { modelFilesIfHere, useAppStore } from '../../state/store';
import { formatScore } from '../compare/ClassificationScores';
import { formatLoss } from '../compare/format-metric';

/** A split's size as the run counts it: rows, or a DPO run's preference pairs. */
const splitSize = (count: number | undefined, dpo: boolean) =>
  `${count ?? 0} validation ${dpo ? 'pairs' : 'rows'}`;

/** The adapter's numbers on the split, as the worker measured them. */
function scoredText(e: AdapterEvaluation): string {
  if (e.preference)
    return `DPO loss ${formatLoss(e.loss)}, reward accuracy ${formatScore(e.preference.rewardAccuracy)}, margin ${formatLoss(e.preference.rewardMargin)} on ${e.runLabel}'s split (${e.examples} pairs)`;
  const scores = e.classification
    ? `, accuracy ${formatScore(e.classification.accuracy)}, F1 ${formatScore(e.classification.f1)}`
    : '';
  return `validation loss ${formatLoss(e.loss)}${scores} on ${e.runLabel}'s split (${e.examples} rows)`;
}

export function EvaluateOnRun({ entry }: { entry: AdapterEntry }) {
  const sessionRuns = useAppStore(useShallow((s) => evaluableRuns(s)));
  const kept = useAppStore((s) => s.evaluations.kept);
  const past = useAppStore((s) => s.history.runs);
  const live = useAppStore((s) => s.runs);
  const libraryEntries = useAppStore((s) => s.dataset.library.entries);
  const loadEvaluations = useAppStore((s) => s.loadEvaluations);
  // Once per page (the slice keeps the first read): the kept specs of earlier sessions' runs.
  useEffect(() => {
    void loadEvaluations();
  }, [loadEvaluations]);
  const history = useMemo(
    () =>
      historyChoices(
        {
          kept,
          pastRuns: past,
          liveRuns: live,
          datasetIds: new Set(libraryEntries.map((e) => e.id)),
        },
        (modelId) => modelFilesIfHere(modelId) !== undefined,
      ),
    [kept, past, live, libraryEntries],
  );
  const jobs = useMemo(
    () =>
      exportedJobChoices(
        kept,
        new Set(libraryEntries.map((e) => e.id)),
        (modelId) => modelFilesIfHere(modelId) !== undefined,
      ),
    [kept, libraryEntries],
  );
  // One list of choices: runs (with their model and split size) and exported "Run at scale…" jobs.
  const runs = [
    ...[...sessionRuns, ...history.filter((c) => c.availability.ok).map((c) => c.run)].map((run) => ({
      id: run.id,
      text: `${run.label} · ${run.settings.modelLabel} (${splitSize(run.settings.validationExamples, !!run.settings.train.preference)})`,
    })),
    ...jobs
      .filter((c) => c.availability.ok)
      .map(({ job }) => ({
        id: job.runId,
        text: `${job.label} · ${job.modelId} (${splitSize(job.validationExamples, !!job.spec.train.preference)})`,
      })),
  ];
  const unavailable = [
    ...history.flatMap((c) =>
      c.availability.ok ? [] : [{ id: c.run.id, label: c.run.label, why: c.availability.reason }],
    ),
    ...jobs.flatMap((c) =>
      c.availability.ok ? [] : [{ id: c.job.runId, label: c.job.label, why: c.availability.reason }],
    ),
  ];
  const evaluateAdapter = useAppStore((s) => s.evaluateAdapter);
  const pending = useAppStore((s) => s.evaluations.pending);
  const latest = useAppStore((s) => s.evaluations.entries.find((e) => e.adapterId === entry.id));
  const [chosen, setChosen] = useState('');
  const runId = runs.some((r) => r.id === chosen) ? chosen : (runs[0]?.id ?? '');
  const notOffered = unavailable.length > 0 && (
    <ul className="muted small" data-testid="evaluate-unavailable">
      {unavailable.map(({ id, label, why }) => (
        <li key={id}>
          {label}: not offered — {why}
        </li>
      ))}
    </ul>
  );
  if (runs.length === 0)
    return (
      <div data-testid="evaluate-none">
        <p className="muted small">
          To score this adapter on a run's validation split, finish a run with a validation split.
        </p>
        {notOffered}
      </div>
    );
  const busy = pending.includes(pendingKey(entry.id, runId));
  return (
    <div className="actions evaluate-on-run">
      <label htmlFor={`evaluate-run-${entry.id}`}>Evaluate on the validation split of</label>
      <select
        id={`evaluate-run-${entry.id}`}
        data-testid="evaluate-run"
        value={runId}
        onChange={(event) => setChosen(event.target.value)}
      >
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {run.text}
          </option>
        ))}
      </select>
      <button
        type="button"
        data-testid="evaluate-adapter"
        disabled={busy || runId === ''}
        onClick={() => void evaluateAdapter(entry.id, runId)}
      >
        {busy ? 'Evaluating…' : 'Evaluate'}
      </button>
      {notOffered}
      {latest && (
        <span
          className="muted small"
          data-testid="evaluate-result"
          data-loss={latest.loss}
          data-reward-accuracy={latest.preference?.rewardAccuracy ?? ''}
        >
          {scoredText(latest)}
        </span>
      )}
    </div>
  );
}
