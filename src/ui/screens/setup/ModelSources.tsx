/**
 * Where else a model can come from: any hub repo id (downloaded into the browser's model cache with a
 * progress bar in bytes and a cancel button; gated models with an access token), or a local folder,
 * picked or dropped.
 */
import { type DragEvent, useState } from 'react';
import { filesFromBrowser } from '../../../train/io/model-files';
import { formatBytes } from '../../../train/plan/index';
import { useAppStore } from '../../state/store';
import { folderFromDrop, folderFromInput, type PickedFolder } from './folder-files';

function DownloadStatus() {
  const download = useAppStore((s) => s.models.download);
  const cancel = useAppStore((s) => s.cancelDownload);
  if (!download) return null;
  const active = download.status === 'listing' || download.status === 'downloading';
  return (
    <div className="download-status" data-testid="download-status" data-status={download.status}>
      <progress
        data-testid="download-progress"
        max={download.totalBytes || 1}
        value={download.loadedBytes}
        aria-label={`Download of ${download.repo}`}
      />
      <span data-testid="download-bytes">
        {download.status === 'listing'
          ? `Listing ${download.repo}…`
          : `${formatBytes(download.loadedBytes)} of ${formatBytes(download.totalBytes)}`}
        {download.status === 'downloading' && download.file ? ` (${download.file})` : ''}
        {download.status === 'done' ? ` — ${download.repo} ready` : ''}
      </span>
      {active && (
        <button type="button" data-testid="download-cancel" onClick={cancel}>
          Cancel
        </button>
      )}
      {download.message && (
        <p className={download.status === 'failed' ? 'field-error' : 'muted'} role="status">
          {download.message}
        </p>
      )}
    </div>
  );
}

export function ModelSources() {
  const [repo, setRepo] = useState('');
  const [dragging, setDragging] = useState(false);
  const folderError = useAppStore((s) => s.models.folderError);
  const accessToken = useAppStore((s) => s.models.accessToken);
  const { downloadHubModel, loadModelFolder, setHubAccessToken } = useAppStore.getState();
  const openFolder = (folder: PickedFolder) =>
    void loadModelFolder(filesFromBrowser(folder.files, `the folder "${folder.name}"`), folder.name);
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void folderFromDrop(event.dataTransfer).then(openFolder);
  };
  return (
    <div className="model-sources">
      <form
        className="setting"
        onSubmit={(event) => {
          event.preventDefault();
          void downloadHubModel(repo);
        }}
      >
        <label htmlFor="hub-repo">Any hub model (repo id)</label>
        <div className="inline-row">
          <input
            id="hub-repo"
            data-testid="hub-repo"
            type="text"
            placeholder="owner/name"
            autoComplete="off"
            value={repo}
            onChange={(event) => setRepo(event.target.value)}
          />
          <button type="submit" data-testid="hub-download">
            Download
          </button>
        </div>
        <label htmlFor="hub-token">Access token, for gated or private models (optional)</label>
        <input
          id="hub-token"
          data-testid="hub-token"
          type="password"
          placeholder="hf_…"
          autoComplete="off"
          value={accessToken}
          onChange={(event) => setHubAccessToken(event.target.value)}
        />
        <small className="muted">
          Sent only to huggingface.co with this tab's downloads, the catalogue's included; never saved.
        </small>
      </form>
      <DownloadStatus />
      {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target only; the folder input inside is the keyboard path. */}
      <div
        className={`folder-drop${dragging ? ' dragging' : ''}`}
        data-testid="model-folder-drop"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label htmlFor="model-folder">
          Or a local model folder (config.json, tokenizer.json or vocab.txt, model.safetensors or
          pytorch_model.bin)
        </label>
        <input
          id="model-folder"
          data-testid="model-folder"
          type="file"
          webkitdirectory=""
          multiple
          onChange={(event) => event.target.files?.length && openFolder(folderFromInput(event.target.files))}
        />
        <small className="muted">Pick a folder, or drop one here.</small>
      </div>
      {folderError && (
        <p className="field-error" role="alert" data-testid="folder-error">
          {folderError}
        </p>
      )}
    </div>
  );
}
