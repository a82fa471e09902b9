/**
 * What the dataset reads as: the number of examples and how many go to validation, a preview of the
 * first rows with their line numbers, or the malformed row's line and what is wrong with it.
 */
import { splitValidation } from '../../state/read-dataset';
import { useAppStore } from '../../state/store';

const previewRows = 5;
const clip = (text: string) => (text.length > 140 ? `${text.slice(0, 137)}…` : text);

export function DatasetPreview() {
  const { reading, fileName, text } = useAppStore((s) => s.dataset);
  if (!reading.ok) {
    return (
      <p className="dataset-error" role="alert" data-testid="dataset-error" data-line={reading.line}>
        <strong>Line {reading.line}</strong>
        {fileName ? ` of ${fileName}` : ''}: {reading.problem}
      </p>
    );
  }
  if (text.trim() === '') return <p className="muted">No examples yet.</p>;
  const split = splitValidation(reading.rows.map((r) => r.text));
  return (
    <div className="dataset-preview">
      <p data-testid="dataset-count" data-count={reading.rows.length}>
        <strong>{reading.rows.length}</strong> example{reading.rows.length === 1 ? '' : 's'} (
        {reading.format === 'jsonl' ? 'JSON Lines' : 'plain text, one per line'}
        {fileName ? `, from ${fileName}` : ''}).{' '}
        <span className="muted">
          {split.heldOut
            ? `${split.train.length} for training, the last ${split.validation.length} held out for validation.`
            : 'Too few to hold any out: validation loss is measured on the training examples.'}
        </span>
      </p>
      <table className="preview" aria-label="First rows of the dataset">
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Text</th>
          </tr>
        </thead>
        <tbody>
          {reading.rows.slice(0, previewRows).map((row) => (
            <tr key={row.line} data-testid="preview-row">
              <td>{row.line}</td>
              <td>{clip(row.text)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
