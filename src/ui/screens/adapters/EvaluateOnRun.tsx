/**
 * "Evaluate on a run's validation split" for one kept adapter: pick an ended run of this session (its
 * spec is known, so the worker can rebuild its split) and score the adapter there. The measured loss
 * shows here and in the compare view beside the run's own final validation loss.
 */
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { AdapterEntry } from '../../state/adapter-store';
import { evaluableRuns, pendingKey } from '../../state/evaluations-slice';
import { useAppStore } from '../../state/store';
import { formatLoss } from '../compare/format-metric';

export function EvaluateOnRun({ entry }: { entry: AdapterEntry }) {
  const runs = useAppStore(useShallow((s) => evaluableRuns(s)));
  const evaluateAdapter = useAppStore((s) => s.evaluateAdapter);
  const pending = useAppStore((s) => s.evaluations.pending);
  const latest = useAppStore((s) => s.evaluations.entries.find((e) => e.adapterId === entry.id));
  const [chosen, setChosen] = useState('');
  const runId = runs.some((r) => r.id === chosen) ? chosen : (runs[0]?.id ?? '');
  if (runs.length === 0)
    return (
      <p className="muted small" data-testid="evaluate-none">
        To score this adapter on a run's validation split, finish a run with a validation split in this
        session.
      </p>
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
            {run.label} · {run.settings.modelLabel} ({run.settings.validationExamples} validation rows)
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
      {latest && (
        <span className="muted small" data-testid="evaluate-result" data-loss={latest.loss}>
          validation loss {formatLoss(latest.loss)} on {latest.runLabel}'s split ({latest.examples} rows)
        </span>
      )}
    </div>
  );
}
