/**
 * "Evaluate on a run's validation split" for one kept adapter: pick an ended run of this session (its
 * spec is in memory) or of an earlier session (its spec was kept in IndexedDB; offered when its dataset
 * and model are still here, otherwise listed with why not) and score the adapter there. The measured loss
 * (and a classifier's accuracy and F1) shows here and in the compare view beside the run's own.
 */
import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AdapterEntry } from '../../state/adapter-store';
import { exportedJobChoices, historyChoices } from '../../state/evaluable-history';
import { evaluableRuns, pendingKey } from '../../state/evaluations-slice';
import { modelFilesIfHere, useAppStore } from '../../state/store';
import { formatScore } from '../compare/ClassificationScores';
import { formatLoss } from '../compare/format-metric';

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
      text: `${run.label} · ${run.settings.modelLabel} (${run.settings.validationExamples} validation rows)`,
    })),
    ...jobs
      .filter((c) => c.availability.ok)
      .map(({ job }) => ({
        id: job.runId,
        text: `${job.label} · ${job.modelId} (${job.validationExamples} validation rows)`,
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
        <span className="muted small" data-testid="evaluate-result" data-loss={latest.loss}>
          validation loss {formatLoss(latest.loss)}
          {latest.classification
            ? `, accuracy ${formatScore(latest.classification.accuracy)}, F1 ${formatScore(latest.classification.f1)}`
            : ''}{' '}
          on {latest.runLabel}'s split ({latest.examples} rows)
        </span>
      )}
    </div>
  );
}
