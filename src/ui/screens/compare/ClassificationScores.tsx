/**
 * A classification run's latest validation scores on its card: accuracy, F1 (binary or macro, as the
 * worker computed it) and the confusion matrix (rows: true label, columns: predicted), all from the last
 * eval event. Each number is a `<data>` element holding the raw value the worker measured.
 */
import type { ClassificationScores } from '../../../train/worker/protocol';
import type { RunRecord } from '../../state/run-record';
import '../classification.css';
import { latestScores } from './classification-chart-data';

/** A score in [0, 1] as a percentage with one decimal: "87.5%". */
export function formatScore(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : String(v);
}

export function ConfusionMatrix({ scores }: { scores: ClassificationScores }) {
  const what = `Confusion matrix on ${scores.count} validation rows (rows: true label, columns: predicted)`;
  return (
    <figure className="confusion-figure">
      <figcaption className="muted small">{what}</figcaption>
      <table className="confusion" data-testid="confusion-matrix" aria-label={what}>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">True label</span>
            </th>
            {scores.labels.map((label) => (
              <th scope="col" key={label}>
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {scores.confusion.map((row, truth) => (
            <tr key={scores.labels[truth] ?? truth}>
              <th scope="row">{scores.labels[truth]}</th>
              {row.map((count, predicted) => (
                <td
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are the fixed class ids.
                  key={predicted}
                  className={predicted === truth ? 'diagonal' : undefined}
                  data-testid="confusion-cell"
                >
                  {count}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export function ClassificationMetrics({ record }: { record: RunRecord }) {
  const scores = latestScores(record);
  if (!scores) {
    if (record.settings.task !== 'classification') return null;
    return (
      <p className="muted" data-testid="classification-scores" data-accuracy="">
        Accuracy and F1 show after the first validation.
      </p>
    );
  }
  return (
    <div
      className="classification-scores"
      data-testid="classification-scores"
      data-accuracy={scores.accuracy}
      data-f1={scores.f1}
    >
      <table className="metrics" aria-label={`${record.label} validation scores`}>
        <tbody>
          <tr data-testid="metric-accuracy">
            <th scope="row">Validation accuracy</th>
            <td>
              <data value={scores.accuracy}>{formatScore(scores.accuracy)}</data>{' '}
              <span className="muted">at step {scores.step}</span>
            </td>
          </tr>
          <tr data-testid="metric-f1">
            <th scope="row">
              Validation F1 ({scores.f1Kind === 'binary' ? `binary, class ${scores.labels[1]}` : 'macro'})
            </th>
            <td>
              <data value={scores.f1}>{formatScore(scores.f1)}</data>
            </td>
          </tr>
        </tbody>
      </table>
      <ConfusionMatrix scores={scores} />
    </div>
  );
}
