/**
 * Where a dataset file arrives: dragged from the desktop onto the zone, or chosen with the file picker
 * (the keyboard path). Files go to the dataset worker (read, parsed and tokenized off the main thread)
 * and into the library; the sample button fills the paste box instead, so the studio works offline, and
 * the sample preference pairs go into the library as a file, so DPO can be tried the same way.
 */
import { type DragEvent, useState } from 'react';
import { useAppStore } from '../../state/store';
import { sampleDatasetName, sampleDatasetText } from './sample-dataset';
import { samplePreferencesName, samplePreferencesText } from './sample-preferences';
import { useAnalysisContext } from './use-analysis-context';

const ACCEPT =
  '.jsonl,.ndjson,.json,.csv,.tsv,.txt,.parquet,text/plain,text/csv,application/json,application/jsonl';

export function DropZone() {
  const setDatasetText = useAppStore((s) => s.setDatasetText);
  const importDatasetFile = useAppStore((s) => s.importDatasetFile);
  const context = useAnalysisContext();
  const [over, setOver] = useState(false);

  const take = (file: File | undefined) => {
    if (file) void importDatasetFile(file, context);
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setOver(false);
    take(event.dataTransfer.files[0]);
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
        Drop a dataset file here: JSON Lines, JSON, CSV, TSV, Parquet or plain text. It is read in the
        background and kept in this browser's library.
      </p>
      <div className="drop-actions">
        <label className="button">
          Choose a dataset file…
          <input
            type="file"
            accept={ACCEPT}
            className="visually-hidden"
            data-testid="dataset-file"
            onChange={(event) => {
              take(event.target.files?.[0]);
              event.target.value = '';
            }}
          />
        </label>
        <button type="button" onClick={() => setDatasetText(sampleDatasetText, sampleDatasetName)}>
          Use the sample dataset
        </button>
        <button
          type="button"
          data-testid="sample-preferences"
          onClick={() =>
            take(new File([samplePreferencesText], samplePreferencesName, { type: 'application/jsonl' }))
          }
        >
          Use the sample preference pairs (DPO)
        </button>
      </div>
    </div>
  );
}
