/**
 * The app store, built from slices (one per concern). Components read it with `useAppStore(selector)`.
 * Here the slices get their real dependencies: the GPU probe, the training worker and IndexedDB.
 */
import { create } from 'zustand';
import { probeGpu } from '../../train/gpu-info';
import { workerTrainer } from '../../train/worker/training-client';
import { createDatasetSlice, type DatasetSlice } from './dataset-slice';
import { createGpuSlice, type GpuSlice } from './gpu-slice';
import { createHistorySlice, type HistorySlice } from './history-slice';
import { idbRunArchive } from './run-archive';
import { createRunsSlice, type RunsSlice } from './runs-slice';
import { createSetupSlice, type SetupSlice } from './setup-slice';

export type AppState = GpuSlice & DatasetSlice & SetupSlice & RunsSlice & HistorySlice;

/** One worker, one GPU device, every run: the worker interleaves the runs' steps with fair turns. */
const trainingWorker = () =>
  workerTrainer(
    new Worker(new URL('../../train/worker/training-worker.ts', import.meta.url), {
      type: 'module',
      name: 'whetstone-training',
    }),
  );

export const useAppStore = create<AppState>()((...args) => ({
  ...createGpuSlice(probeGpu)(...args),
  ...createDatasetSlice(...args),
  ...createSetupSlice(...args),
  ...createRunsSlice({ trainer: trainingWorker, newId: () => crypto.randomUUID(), now: () => Date.now() })(
    ...args,
  ),
  ...createHistorySlice(idbRunArchive())(...args),
}));
