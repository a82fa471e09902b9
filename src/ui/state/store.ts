/**
 * The app store, built from slices (one per concern). Components read it with `useAppStore(selector)`.
 * Here the slices get their real dependencies: the GPU probe, the training worker and IndexedDB.
 */
import { create } from 'zustand';
import { browserModelCache } from '../../train/io/browser-model-cache';
import { downloadModel } from '../../train/io/hub';
import { workerTrainer } from '../../train/worker/training-client';
import { findModel } from '../models/model-catalogue';
import { browserCheckpointStore } from '../storage/checkpoint-store';
import { browserDatasetLibrary } from '../storage/dataset-library';
import { browserRunSpecStore } from '../storage/run-spec-store';
import { browserStorageAccess } from '../storage/storage-quota';
import { browserDatasetAnalyzer } from '../workers/dataset-client';
import { probeGpuInWorker } from '../workers/gpu-probe-client';
import { idbAdapterStore } from './adapter-store';
import { type AdaptersSlice, createAdaptersSlice } from './adapters-slice';
import {
  type DatasetSlice,
  type DatasetSliceDeps,
  type DatasetState,
  datasetSliceWith,
} from './dataset-slice';
import { idbEvaluationStore } from './evaluation-store';
import { createEvaluationsSlice, type EvaluationsSlice } from './evaluations-slice';
import { createGpuSlice, type GpuSlice } from './gpu-slice';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { keepRunSpecWith } from './keep-run-spec';
import { createModelsSlice, type HubDownloader, type ModelsSlice } from './models-slice';
import { createPlaygroundSlice, type PlaygroundSlice } from './playground-slice';
import { type PreferencePairsSlice, preferencePairsSliceWith } from './preference-pairs-slice';
import { idbRunArchive } from './run-archive';
import { createRunsSlice, type RunsSlice } from './runs-slice';
import { createSetupSlice, type SetupSlice } from './setup-slice';

export type AppState = GpuSlice &
  DatasetSlice &
  SetupSlice &
  ModelsSlice &
  RunsSlice &
  HistorySlice &
  PlaygroundSlice &
  PreferencePairsSlice &
  AdaptersSlice &
  EvaluationsSlice;

/** Made on first use, so importing the store in Node (tests) starts no worker and opens no database. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** One dataset library and one dataset worker, for the dataset slice and the playground's kept pairs. */
const datasetDeps: DatasetSliceDeps = {
  library: lazy(() => browserDatasetLibrary(browserStorageAccess())),
  analyzer: lazy(browserDatasetAnalyzer),
};

/** Checkpoints that outlive the tab; the history forgets a run's checkpoint with the run. */
const checkpoints = browserCheckpointStore(browserStorageAccess());

/** One worker, one GPU device, every run: the worker interleaves the runs' steps with fair turns. */
const trainingWorker = () =>
  workerTrainer(
    new Worker(new URL('../../train/worker/training-worker.ts', import.meta.url), {
      type: 'module',
      name: 'whetstone-training',
    }),
  );

/** Hub downloads go through the Cache Storage model cache, so a model downloads once per browser. */
const hubDownload: HubDownloader = async (repo, options) =>
  downloadModel(repo, { cache: await browserModelCache(), ...options });

/** A studio model's files, or undefined when they are not in this browser (a hub model not downloaded). */
export function modelFilesIfHere(modelId: string): Record<string, Uint8Array> | undefined {
  try {
    return findModel(modelId)?.files();
  } catch {
    return undefined;
  }
}

/** The library id of the file a run trains on (the dataset's current entry), to keep the run's spec by. */
function libraryIdOf(blob: Blob): string | null {
  const work: DatasetState['work'] = useAppStore.getState().dataset.work;
  return work.status === 'ready' && work.file === blob ? work.entryId : null;
}

export const useAppStore = create<AppState>()((...args) => ({
  ...createGpuSlice(probeGpuInWorker)(...args),
  ...datasetSliceWith(datasetDeps)(...args),
  ...createSetupSlice(...args),
  ...createModelsSlice(hubDownload)(...args),
  ...createRunsSlice({
    trainer: trainingWorker,
    newId: () => crypto.randomUUID(),
    now: () => Date.now(),
    checkpoints,
    modelFiles: (modelId) => findModel(modelId)?.files(),
    keepSpec: keepRunSpecWith(browserRunSpecStore, libraryIdOf, () => Date.now()),
  })(...args),
  // A forgotten run's checkpoint and kept spec go with it.
  ...createHistorySlice(idbRunArchive(), {
    remove: async (id) => {
      await checkpoints.remove(id);
      await browserRunSpecStore().remove(id);
    },
  })(...args),
  ...createPlaygroundSlice(...args),
  ...preferencePairsSliceWith(datasetDeps)(...args),
  ...createAdaptersSlice({ store: idbAdapterStore, newId: () => crypto.randomUUID(), now: () => Date.now() })(
    ...args,
  ),
  ...createEvaluationsSlice({
    store: idbEvaluationStore,
    newId: () => crypto.randomUUID(),
    now: () => Date.now(),
    runSpecs: browserRunSpecStore,
    modelFiles: modelFilesIfHere,
    datasetFile: (id) =>
      browserDatasetLibrary(browserStorageAccess())
        .file(id)
        .catch(() => undefined),
  })(...args),
}));
