/**
 * The dataset area: a drop zone and a text box for the same text, and what that text reads as.
 */
import { useAppStore } from '../../state/store';
import { DatasetPreview } from './DatasetPreview';
import { DropZone } from './DropZone';

export function DatasetPanel() {
  const text = useAppStore((s) => s.dataset.text);
  const setDatasetText = useAppStore((s) => s.setDatasetText);
  return (
    <section className="panel" aria-labelledby="dataset-heading" data-testid="dataset-panel">
      <h2 id="dataset-heading">Dataset</h2>
      <DropZone />
      <label htmlFor="dataset-text" className="field-label">
        Or paste JSON Lines (<code>{'{"text": …}'}</code> per line) or plain text (one example per line)
      </label>
      <textarea
        id="dataset-text"
        data-testid="dataset-text"
        rows={7}
        spellCheck={false}
        value={text}
        placeholder={'{"text": "The first example."}\n{"text": "The second example."}'}
        onChange={(event) => setDatasetText(event.target.value)}
      />
      <DatasetPreview />
    </section>
  );
}
