/**
 * Marking the playground's answers as a preference pair: under each finished answer, "Better" and
 * "Worse" (once every answer is in and at least two answered); under the columns, "Keep as a preference
 * pair", why it cannot be kept yet, any storage error, and how many pairs each file in the library holds,
 * with where to train DPO on them (preference-pairs-slice.ts).
 */

import type { PlaygroundColumn } from '../../state/playground-slice';
import { canMarkAnswers, isPreferenceFileName, keptPairsLine } from '../../state/preference-pair';
import { currentMarks, pairToKeep } from '../../state/preference-pairs-slice';
import { useAppStore } from '../../state/store';
import { useAnalysisContext } from '../dataset/use-analysis-context';
import './preference-pair.css';

/** "Better" and "Worse" for one column's answer. */
export function AnswerMarks({ column }: { column: PlaygroundColumn }) {
  const open = useAppStore((s) => canMarkAnswers(s.playground.columns));
  const mark = useAppStore((s) => {
    const marks = currentMarks(s);
    return marks.better === column.key ? 'better' : marks.worse === column.key ? 'worse' : null;
  });
  if (!open || column.status !== 'done') return null;
  const { markAnswer } = useAppStore.getState();
  return (
    <fieldset className="answer-marks">
      <legend className="visually-hidden">Mark the answer of {column.label}</legend>
      {(['better', 'worse'] as const).map((which) => (
        <button
          key={which}
          type="button"
          className={mark === which ? `mark-${which} marked` : `mark-${which}`}
          data-testid={`mark-${which}`}
          aria-pressed={mark === which}
          onClick={() => markAnswer(column.key, which)}
        >
          {which === 'better' ? 'Better' : 'Worse'}
        </button>
      ))}
    </fieldset>
  );
}

/** The keep button, and what has been kept where. */
export function KeepPreferencePair() {
  const open = useAppStore((s) => canMarkAnswers(s.playground.columns));
  const problem = useAppStore((s) => {
    const pair = pairToKeep(s);
    return 'problem' in pair ? pair.problem : null;
  });
  const { saving, error } = useAppStore((s) => s.preferencePairs);
  const entries = useAppStore((s) => s.dataset.library.entries);
  const files = entries.filter((e) => isPreferenceFileName(e.fileName));
  const context = useAnalysisContext();
  if (!open && files.length === 0 && !error) return null;
  return (
    <div className="keep-pair" data-testid="keep-pair">
      {open && (
        <p className="keep-pair-action">
          <button
            type="button"
            data-testid="keep-pair-button"
            disabled={problem !== null || saving}
            onClick={() => void useAppStore.getState().keepPreferencePair(context)}
          >
            {saving ? 'Keeping…' : 'Keep as a preference pair'}
          </button>{' '}
          {problem && (
            <small className="muted" data-testid="keep-pair-hint">
              {problem}
            </small>
          )}
        </p>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="keep-pair-error">
          {error}
        </p>
      )}
      {files.map((entry) => (
        <p
          key={entry.id}
          className="muted small"
          data-testid="kept-pairs"
          data-file={entry.fileName}
          data-count={entry.stats.examples}
        >
          {keptPairsLine(entry.stats.examples, entry.name)}
        </p>
      ))}
    </div>
  );
}
