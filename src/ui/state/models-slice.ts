/**
 * The models slice: loading models into the studio (a hub download by repo id, or a local folder) and
 * the state of the download in progress (bytes so far of the total, cancellable with an AbortController).
 * A loaded model is registered with the catalogue (so every screen finds it) and chosen in the setup.
 * The hub download is injected, so the slice is tested in Node without a network or Cache Storage.
 */
import type { StateCreator } from 'zustand';
import type { DownloadProgress } from '../../train/io/hub';
import type { ModelFiles } from '../../train/io/model-files';
import { loadedModel } from '../models/loaded-model';
import { registerModel } from '../models/model-catalogue';

export type DownloadStatus = 'listing' | 'downloading' | 'done' | 'cancelled' | 'failed';

export interface ModelDownload {
  repo: string;
  status: DownloadStatus;
  loadedBytes: number;
  /** 0 until the hub's file list says how much there is. */
  totalBytes: number;
  file: string;
  message: string | null;
}

export interface ModelsState {
  /** Ids of the models loaded this session, newest last. */
  loadedIds: string[];
  download: ModelDownload | null;
  /** Why the last local folder could not be used. */
  folderError: string | null;
  /**
   * A hub access token (hf_...) for gated or private models, sent with downloads. Held in this tab's
   * memory only: never written to storage, gone on reload.
   */
  accessToken: string;
}

export interface ModelsSlice {
  models: ModelsState;
  downloadHubModel(repo: string): Promise<void>;
  setHubAccessToken(token: string): void;
  cancelDownload(): void;
  loadModelFolder(files: ModelFiles, name: string): Promise<void>;
}

export type HubDownloader = (
  repo: string,
  options: { signal: AbortSignal; onProgress: (progress: DownloadProgress) => void; accessToken?: string },
) => Promise<ModelFiles>;

interface NeedsSetup {
  setModel(modelId: string): void;
}

/** "Org/name": what the hub accepts as a model repo id. */
export const repoIdPattern = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function createModelsSlice(
  download: HubDownloader,
): StateCreator<ModelsSlice & NeedsSetup, [], [], ModelsSlice> {
  return (set, get) => {
    let controller: AbortController | null = null;
    const patch = (change: Partial<ModelDownload>) =>
      set((s) => ({
        models: { ...s.models, download: s.models.download && { ...s.models.download, ...change } },
      }));
    const loaded = (id: string) =>
      set((s) => ({
        models: { ...s.models, loadedIds: [...s.models.loadedIds.filter((x) => x !== id), id] },
      }));

    return {
      models: { loadedIds: [], download: null, folderError: null, accessToken: '' },
      setHubAccessToken(token) {
        set((s) => ({ models: { ...s.models, accessToken: token } }));
      },
      async downloadHubModel(repo) {
        const id = repo.trim();
        if (!repoIdPattern.test(id)) {
          set((s) => ({
            models: {
              ...s.models,
              download: {
                repo: id,
                status: 'failed',
                loadedBytes: 0,
                totalBytes: 0,
                file: '',
                message: `"${id}" is not a hub repo id; write it as owner/name, e.g. HuggingFaceTB/SmolLM2-135M.`,
              },
            },
          }));
          return;
        }
        controller?.abort();
        const mine = new AbortController();
        controller = mine;
        set((s) => ({
          models: {
            ...s.models,
            download: { repo: id, status: 'listing', loadedBytes: 0, totalBytes: 0, file: '', message: null },
          },
        }));
        const token = get().models.accessToken.trim();
        try {
          const files = await download(id, {
            ...(token ? { accessToken: token } : {}),
            signal: mine.signal,
            onProgress: (p) => {
              if (controller === mine)
                patch({
                  status: 'downloading',
                  loadedBytes: p.overallLoaded,
                  totalBytes: p.overallTotal,
                  file: p.file,
                });
            },
          });
          const model = await loadedModel(files, id, id);
          if (controller !== mine) return;
          registerModel(model);
          loaded(id);
          patch({ status: 'done' });
          get().setModel(id);
        } catch (error) {
          if (controller !== mine) return;
          patch(
            mine.signal.aborted
              ? { status: 'cancelled', message: 'Download cancelled; files already complete stay cached.' }
              : { status: 'failed', message: error instanceof Error ? error.message : String(error) },
          );
        } finally {
          if (controller === mine) controller = null;
        }
      },
      cancelDownload() {
        controller?.abort();
      },
      async loadModelFolder(files, name) {
        const id = `local/${name}`;
        try {
          const model = await loadedModel(files, id, `${name} (local folder)`);
          registerModel(model);
          loaded(id);
          set((s) => ({ models: { ...s.models, folderError: null } }));
          get().setModel(id);
        } catch (error) {
          set((s) => ({
            models: { ...s.models, folderError: error instanceof Error ? error.message : String(error) },
          }));
        }
      },
    };
  };
}
