/**
 * The playground's classifiers: a text and an optional second sentence (for pair tasks such as MRPC),
 * "Classify" to ask every classification run of this session that has ended and every chosen kept
 * classifier adapter, and a column per answer with each class's probability as a bar. The probabilities
 * and the worker's time are the worker's own; the round trip is measured on this page.
 */
import { useShallow } from 'zustand/react/shallow';
import { canClassify } from '../../state/playground-classify';
import type { RunRecord } from '../../state/run-record';
import { useAppStore } from '../../state/store';
import '../classification.css';
import { formatScore } from '../compare/ClassificationScores';
import { formatStepTime } from '../compare/format-metric';

export function ClassifyPanel() {
  const classify = useAppStore((s) => s.playground.classify);
  const ready = useAppStore(
    useShallow((s) =>
      s.runOrder
        .filter((id) => canClassify(s.runs[id] as RunRecord, s.runFiles[id]))
        .map((id) => s.runs[id]?.label),
    ),
  );
  const { setClassifyInput, classifyEverywhere } = useAppStore.getState();
  const busy = classify.columns.some((c) => c.status === 'classifying');

  return (
    <section className="classify" aria-labelledby="classify-heading" data-testid="classify-panel">
      <h3 id="classify-heading">Classify</h3>
      <p className="muted">
        {ready.length === 0
          ? 'No classification run has finished in this session yet; chosen kept classifier adapters answer here too.'
          : `${ready.length} classification run${ready.length === 1 ? '' : 's'} (${ready.join(', ')}) answer side by side.`}
      </p>
      <form
        className="playground-form"
        onSubmit={(event) => {
          event.preventDefault();
          void classifyEverywhere();
        }}
      >
        <label htmlFor="classify-text">Text (or first sentence)</label>
        <textarea
          id="classify-text"
          data-testid="classify-text"
          rows={2}
          value={classify.text}
          onChange={(event) => setClassifyInput('text', event.target.value)}
        />
        <label htmlFor="classify-pair">Second sentence (optional, for pair tasks)</label>
        <textarea
          id="classify-pair"
          data-testid="classify-pair"
          rows={2}
          value={classify.pair}
          onChange={(event) => setClassifyInput('pair', event.target.value)}
        />
        <button type="submit" className="primary" data-testid="classify" disabled={busy}>
          {busy ? 'Classifying…' : 'Classify'}
        </button>
        {classify.problem && (
          <p className="field-error" role="alert" data-testid="classify-problem">
            {classify.problem}
          </p>
        )}
      </form>
      <div className="playground-columns">
        {classify.columns.map((column) => {
          const probabilities = column.probabilities ?? [];
          const best = probabilities.indexOf(Math.max(...probabilities));
          return (
            <article
              key={column.key}
              className="playground-column"
              data-testid="classify-column"
              data-key={column.key}
              data-status={column.status}
              style={{ borderTopColor: column.color }}
              aria-busy={column.status === 'classifying'}
            >
              <h4>{column.label}</h4>
              {column.labels && (
                <ul className="class-probabilities" aria-label={`${column.label}: class probabilities`}>
                  {column.labels.map((label, k) => (
                    <li
                      key={label}
                      className={k === best ? 'predicted' : undefined}
                      data-testid="class-probability"
                      data-label={label}
                      data-probability={probabilities[k]}
                    >
                      <span>{label}</span>
                      <span className="share-bar" aria-hidden="true">
                        <span style={{ width: `${((probabilities[k] ?? 0) * 100).toFixed(1)}%` }} />
                      </span>
                      <span>{formatScore(probabilities[k] ?? Number.NaN)}</span>
                    </li>
                  ))}
                </ul>
              )}
              {column.error && (
                <p className="field-error" role="alert">
                  {column.error}
                </p>
              )}
              {column.status === 'done' && (
                <p className="muted small" data-testid="classify-stats" data-elapsed-ms={column.elapsedMs}>
                  {formatStepTime(column.elapsedMs ?? 0)} in the worker ·{' '}
                  {formatStepTime(column.roundTripMs ?? 0)} round trip (measured)
                </p>
              )}
            </article>
          );
        })}
      </div>
    </section>
  );
}
