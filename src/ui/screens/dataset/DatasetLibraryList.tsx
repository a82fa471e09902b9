/**
 * The datasets kept in this browser (IndexedDB): each with its size, format, schema and measured
 * counts; "Use" makes one the studio's dataset, and each can be downloaded as kept (the playground's
 * preference pairs, say), renamed or deleted. Renaming edits the
 * name in place (Enter saves, Escape cancels).
 */
import { useState } from 'react';
import { saveBytes } from '../../download/save-bytes';
import { useAppStore } from '../../state/store';
import type { DatasetEntry } from '../../storage/dataset-library';
import { formatBytes } from '../../storage/storage-quota';
import { useAnalysisContext } from './use-analysis-context';

function EntryFacts({ entry }: { entry: DatasetEntry }) {
  const { stats } = entry;
  return (
    <small className="muted">
      {formatBytes(entry.size)} · {entry.format} · {entry.schema.kind} · {stats.examples.toLocaleString()}{' '}
      example{stats.examples === 1 ? '' : 's'}
      {stats.badRows ? ` · ${stats.badRows} bad row${stats.badRows === 1 ? '' : 's'} skipped` : ''}
      {stats.tokens ? ` · ${Math.round(stats.tokens.mean)} tokens on average` : ''}
    </small>
  );
}

function LibraryEntry({ entry, active }: { entry: DatasetEntry; active: boolean }) {
  const { selectDataset, renameDataset, deleteDataset, datasetFile } = useAppStore.getState();
  const download = async () => {
    const file = await datasetFile(entry.id);
    if (file) saveBytes(file.fileName, file.bytes);
  };
  const context = useAnalysisContext();
  const [editing, setEditing] = useState<string | null>(null);
  const save = () => {
    if (editing !== null) void renameDataset(entry.id, editing);
    setEditing(null);
  };
  return (
    <li
      className={active ? 'library-entry active' : 'library-entry'}
      data-testid="library-entry"
      data-id={entry.id}
      data-active={active}
    >
      <div className="library-entry-name">
        {editing === null ? (
          <strong data-testid="library-name">{entry.name}</strong>
        ) : (
          <input
            aria-label={`New name for ${entry.name}`}
            data-testid="library-rename-input"
            value={editing}
            // biome-ignore lint/a11y/noAutofocus: the person just asked to rename this entry.
            autoFocus
            onChange={(event) => setEditing(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') save();
              if (event.key === 'Escape') setEditing(null);
            }}
          />
        )}
        <EntryFacts entry={entry} />
      </div>
      <div className="library-entry-actions">
        {editing === null ? (
          <>
            <button
              type="button"
              data-testid="library-select"
              aria-pressed={active}
              onClick={() => void selectDataset(entry.id, context)}
            >
              {active ? 'In use' : 'Use'}
              <span className="visually-hidden"> {entry.name}</span>
            </button>
            <button type="button" data-testid="library-rename" onClick={() => setEditing(entry.name)}>
              Rename<span className="visually-hidden"> {entry.name}</span>
            </button>
            <button type="button" data-testid="library-download" onClick={() => void download()}>
              Download<span className="visually-hidden"> {entry.name}</span>
            </button>
            <button type="button" data-testid="library-delete" onClick={() => void deleteDataset(entry.id)}>
              Delete<span className="visually-hidden"> {entry.name}</span>
            </button>
          </>
        ) : (
          <>
            <button type="button" data-testid="library-rename-save" onClick={save}>
              Save name
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </>
        )}
      </div>
    </li>
  );
}

export function DatasetLibraryList() {
  const library = useAppStore((s) => s.dataset.library);
  const activeId = useAppStore((s) => (s.dataset.source === 'library' ? s.dataset.library.activeId : null));
  return (
    <section className="dataset-library" aria-labelledby="library-heading" data-testid="dataset-library">
      <h3 id="library-heading">Your datasets</h3>
      {library.error && (
        <p className="panel-error" role="alert" data-testid="library-error">
          {library.error}
        </p>
      )}
      {library.status === 'loading' ? (
        <p className="muted">Opening the library…</p>
      ) : library.entries.length === 0 ? (
        <p className="muted" data-testid="library-empty">
          No datasets saved yet. Dropped files are kept here, in this browser.
        </p>
      ) : (
        <ul className="library-list">
          {library.entries.map((entry) => (
            <LibraryEntry key={entry.id} entry={entry} active={entry.id === activeId} />
          ))}
        </ul>
      )}
      {library.persisted === false && (
        <p className="muted" data-testid="storage-not-persistent">
          The browser has not made this storage persistent: it may clear saved datasets when space runs low.
        </p>
      )}
    </section>
  );
}
