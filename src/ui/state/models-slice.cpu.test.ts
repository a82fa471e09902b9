/**
 * The models slice with an injected hub downloader: progress in bytes reaches the state, a finished
 * download is registered and chosen, the access token typed for gated models goes with the downloads,
 * a cancel aborts the downloader's signal and is reported as such,
 * bad repo ids and bad folders are refused with what to do.
 */
import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { filesFromMemory } from '../../train/io/model-files';
import { findModel } from '../models/model-catalogue';
import { createModelsSlice, type HubDownloader, type ModelsSlice } from './models-slice';

const tiny = tinyModelFiles({ family: 'llama' });

function storeWith(download: HubDownloader) {
  return create<ModelsSlice & { chosen: string; setModel(id: string): void }>()((set, get, api) => ({
    chosen: '',
    setModel: (chosen) => set({ chosen }),
    ...createModelsSlice(download)(set, get, api),
  }));
}

describe('models slice', () => {
  it('reports bytes, then registers and chooses the downloaded model', async () => {
    const seen: number[] = [];
    const store = storeWith(async (repo, { onProgress }) => {
      for (const loaded of [0, 500, 1000]) {
        onProgress({
          file: 'model.safetensors',
          loadedBytes: loaded,
          totalBytes: 1000,
          overallLoaded: loaded,
          overallTotal: 1000,
        });
        seen.push(store.getState().models.download?.loadedBytes ?? -1);
      }
      return filesFromMemory(tiny, repo);
    });
    await store.getState().downloadHubModel('test/tiny');
    expect(seen).toEqual([0, 500, 1000]);
    const state = store.getState();
    expect(state.models.download).toMatchObject({ status: 'done', loadedBytes: 1000, totalBytes: 1000 });
    expect(state.models.loadedIds).toEqual(['test/tiny']);
    expect(state.chosen).toBe('test/tiny');
    const model = findModel('test/tiny');
    expect(model?.files()['model.safetensors']).toEqual(tiny['model.safetensors']);
  });

  it('sends the access token with downloads once one is typed, and none while it is blank', async () => {
    const tokens: (string | undefined)[] = [];
    const store = storeWith(async (repo, { accessToken }) => {
      tokens.push(accessToken);
      return filesFromMemory(tiny, repo);
    });
    await store.getState().downloadHubModel('test/open');
    store.getState().setHubAccessToken('  hf_secret ');
    await store.getState().downloadHubModel('test/gated');
    store.getState().setHubAccessToken(' ');
    await store.getState().downloadHubModel('test/open');
    expect(tokens).toEqual([undefined, 'hf_secret', undefined]);
  });

  it('cancels through the AbortSignal and says so', async () => {
    let aborted = false;
    const store = storeWith(
      (_repo, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    );
    const running = store.getState().downloadHubModel('test/slow');
    expect(store.getState().models.download?.status).toBe('listing');
    store.getState().cancelDownload();
    await running;
    expect(aborted).toBe(true);
    expect(store.getState().models.download?.status).toBe('cancelled');
    expect(store.getState().chosen).toBe('');
  });

  it('refuses a malformed repo id without calling the hub', async () => {
    let called = false;
    const store = storeWith(async () => {
      called = true;
      throw new Error('unreachable');
    });
    await store.getState().downloadHubModel('not a repo');
    expect(called).toBe(false);
    expect(store.getState().models.download?.message).toMatch(/owner\/name/);
  });

  it('names what a local folder lacks', async () => {
    const store = storeWith(async () => filesFromMemory({}));
    await store
      .getState()
      .loadModelFolder(filesFromMemory({ 'config.json': tiny['config.json']! }, 'the folder "x"'), 'x');
    expect(store.getState().models.folderError).toMatch(/the folder "x" has no tokenizer.json/);
    await store.getState().loadModelFolder(filesFromMemory(tiny, 'the folder "tiny"'), 'tiny');
    expect(store.getState().models.folderError).toBeNull();
    expect(store.getState().chosen).toBe('local/tiny');
  });
});
