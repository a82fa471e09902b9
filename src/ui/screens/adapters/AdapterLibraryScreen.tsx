/**
 * The adapter library: every kept adapter (from this browser's IndexedDB), newest first, with rename,
 * delete, download as a zipped PEFT folder with its model card, download merged into the base model
 * (LoRA only), import of a PEFT adapter folder or zip, and scoring an adapter on a run's validation split.
 */
import { useState } from 'react';
import { adapterZip, folderName } from '../../download/adapter-zip';
import { mergedModelZip } from '../../download/merged-model';
import { saveBytes } from '../../download/save-bytes';
import { findModel } from '../../models/model-catalogue';
import type { AdapterEntry } from '../../state/adapter-store';
import { useAppStore } from '../../state/store';
import { formatBytes, formatLoss } from '../compare/format-metric';
import { EvaluateOnRun } from './EvaluateOnRun';

const sizeOf = (entry: AdapterEntry) => Object.values(entry.files).reduce((n, f) => n + f.byteLength, 0);

function AdapterRow({ entry }: { entry: AdapterEntry }) {
  const { renameAdapter, deleteAdapter } = useAppStore.getState();
  const [name, setName] = useState(entry.name);
  const [problem, setProblem] = useState<string | null>(null);
  const base = entry.modelId ? findModel(entry.modelId) : undefined;
  const canMerge = entry.peftType === 'LORA' && entry.method !== 'dora' && base !== undefined;
  return (
    <li
      className="adapter-entry"
      data-testid="adapter-entry"
      data-adapter-id={entry.id}
      data-run-id={entry.runId ?? ''}
    >
      <div className="adapter-name">
        <label htmlFor={`adapter-name-${entry.id}`} className="visually-hidden">
          Adapter name
        </label>
        <input
          id={`adapter-name-${entry.id}`}
          data-testid="adapter-name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          onBlur={() => void renameAdapter(entry.id, name)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') void renameAdapter(entry.id, name);
          }}
        />
      </div>
      <p className="muted small">
        <span data-testid="adapter-type">{entry.peftType}</span> · {entry.method} · base{' '}
        {entry.baseModel ?? 'not recorded'} · {formatBytes(sizeOf(entry))}
        {entry.finalValLoss !== undefined ? ` · final validation loss ${formatLoss(entry.finalValLoss)}` : ''}{' '}
        · {new Date(entry.createdAt).toLocaleString()}
      </p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          data-testid="download-adapter-zip"
          onClick={() => saveBytes(`${folderName(entry)}.zip`, adapterZip(entry), 'application/zip')}
        >
          Download PEFT folder (.zip)
        </button>
        {canMerge && (
          <button
            type="button"
            data-testid="download-merged"
            onClick={() => {
              mergedModelZip(entry, base.files()).then(
                (zip) => saveBytes(`${folderName(entry)}-merged.zip`, zip, 'application/zip'),
                (error: unknown) =>
                  setProblem(error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
              );
            }}
          >
            Download merged model (.zip)
          </button>
        )}
        <button type="button" data-testid="delete-adapter" onClick={() => void deleteAdapter(entry.id)}>
          Delete
        </button>
      </div>
      <EvaluateOnRun entry={entry} />
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </li>
  );
}

export function AdapterLibraryScreen() {
  const adapters = useAppStore((s) => s.adapters);
  const evaluationError = useAppStore((s) => s.evaluations.error);
  const importAdapter = useAppStore((s) => s.importAdapter);
  const pick = async (list: FileList | null) => {
    if (!list) return;
    const files = await Promise.all(
      [...list].map(async (f) => ({
        name: f.webkitRelativePath || f.name,
        bytes: new Uint8Array(await f.arrayBuffer()),
      })),
    );
    await importAdapter(files);
  };
  return (
    <section className="panel adapters" aria-labelledby="adapters-heading" data-testid="adapter-library">
      <h2 id="adapters-heading">Adapters</h2>
      <p className="muted">
        Every PEFT run that ends is kept here, in this browser. Download one as a PEFT folder (load it with{' '}
        <code>PeftModel.from_pretrained</code>), or a LoRA merged into its base model.
      </p>
      <div className="actions">
        <label className="button-like">
          Import a PEFT adapter (.zip)
          <input
            type="file"
            accept=".zip"
            data-testid="import-adapter-zip"
            className="visually-hidden"
            onChange={(event) => void pick(event.target.files)}
          />
        </label>
        <label className="button-like">
          Import a PEFT adapter folder
          <input
            type="file"
            data-testid="import-adapter-folder"
            className="visually-hidden"
            multiple
            // A folder picker: the browser hands over every file in it, with its relative path.
            {...{ webkitdirectory: '' }}
            onChange={(event) => void pick(event.target.files)}
          />
        </label>
      </div>
      {adapters.error && (
        <p className="field-error" role="alert" data-testid="adapters-error">
          {adapters.error}
        </p>
      )}
      {evaluationError && (
        <p className="field-error" role="alert" data-testid="adapter-evaluation-error">
          {evaluationError}
        </p>
      )}
      {adapters.status === 'ready' && adapters.entries.length === 0 && (
        <p className="muted">No adapters yet: train a LoRA (or any PEFT method) run, or import one.</p>
      )}
      <ul className="adapter-list">
        {adapters.entries.map((entry) => (
          <AdapterRow key={entry.id} entry={entry} />
        ))}
      </ul>
    </section>
  );
}
