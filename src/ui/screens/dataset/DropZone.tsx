/**
 * Where a dataset file arrives: dropped onto the zone, or chosen with the file picker (the keyboard
 * path). The file is read as text and handed to the dataset slice with its name, which decides its
 * format (.jsonl or .txt).
 */
import { type DragEvent, useState } from 'react';
import { useAppStore } from '../../state/store';
import { sampleDatasetName, sampleDatasetText } from './sample-dataset';

export function DropZone() {
  const setDatasetText = useAppStore((s) => s.setDatasetText);
  const [over, setOver] = useState(false);
  const [readError, setReadError] = useState<string | null>(null);

  const take = async (file: File | undefined) => {
    if (!file) return;
    try {
      setDatasetText(await file.text(), file.name);
      setReadError(null);
    } catch (error) {
      setReadError(`Could not read ${file.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    void take(event.dataTransfer.files[0]);
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target only; the file input inside is the keyboard path.
    <div
      className={over ? 'drop-zone over' : 'drop-zone'}
      data-testid="drop-zone"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <p>
        Drop a <code>.jsonl</code> file (one <code>{'{"text": …}'}</code> per line) or a <code>.txt</code>{' '}
        file (one example per line) here, or
      </p>
      <div className="drop-actions">
        <label className="button">
          Choose a file…
          <input
            type="file"
            accept=".jsonl,.txt,text/plain,application/jsonl"
            className="visually-hidden"
            data-testid="dataset-file"
            onChange={(event) => {
              void take(event.target.files?.[0]);
              event.target.value = '';
            }}
          />
        </label>
        <button type="button" onClick={() => setDatasetText(sampleDatasetText, sampleDatasetName)}>
          Use the sample dataset
        </button>
      </div>
      {readError && (
        <p role="alert" className="field-error">
          {readError}
        </p>
      )}
    </div>
  );
}
