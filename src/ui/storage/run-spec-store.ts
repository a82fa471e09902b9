/**
 * Each run's spec, kept after the run ends (issue 9): an adapter trained elsewhere and imported days
 * later is scored on exactly the validation split of a run from an earlier session, so the evaluate
 * picker needs the run's spec, not just its history record. Kept without heavy bytes: the model by its
 * studio id (the built-in model or the browser's model cache give its files back) and a library file by
 * its dataset-library id (its bytes stay in the library's IndexedDB). Pasted texts and in-memory
 * examples are small and kept as they are.
 *
 * One idb-keyval key per run id, in a database of its own ('whetstone-run-specs'); removed when the run
 * is deleted from the history. An exported "Run at scale…" job is kept the same way, as kind
 * 'exported-job', so an adapter coming back from it can be scored on the split its dataset/ folder holds.
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import type { Example } from '../../train/data/examples';
import type { RunDataFile, RunDataSettings, RunSpec } from '../../train/worker/run-spec';
import type { StoredRunSpec } from './checkpoint-store';

/** A library file as kept: its library id instead of its bytes. */
export type KeptRunDataFile = Omit<RunDataFile, 'blob'> & { datasetId: string };

export type KeptRunData = RunDataSettings &
  ({ examples: Example[]; file?: undefined } | { file: KeptRunDataFile; examples?: undefined });

/** The checkpoint store's spec (no model files, no checkpoint), less its file's bytes and checkpoint interval. */
export type KeptSpec = Omit<StoredRunSpec, 'data' | 'checkpointEvery'> & {
  data?: KeptRunData;
};

export interface KeptRunSpec {
  runId: string;
  /** 'run': trained in the browser; 'exported-job': a "Run at scale…" job that trains elsewhere. */
  kind: 'run' | 'exported-job';
  /** What the picker shows: the run's label, or "exported job <name>". */
  label: string;
  /** The studio model (the built-in model, or a hub model in the browser cache). */
  modelId: string;
  /** Rows held out for validation, as planned; set for exported jobs, which have no history record. */
  validationExamples?: number;
  spec: KeptSpec;
  savedAt: number;
}

export class RunSpecNotKeptError extends Error {
  constructor(runId: string, why: string) {
    super(`Run ${runId} cannot be rebuilt to evaluate on: ${why}`);
    this.name = 'RunSpecNotKeptError';
  }
}

/** The spec as kept: no model bytes, no checkpoint, and a library file by its id (`datasetId`). */
export function keptSpecOf(spec: RunSpec, datasetId: string | null): KeptSpec {
  const { modelFiles: _files, resumeFrom: _from, checkpointEvery: _every, data, ...rest } = spec;
  if (!data) return rest;
  if (data.file) {
    if (!datasetId)
      throw new RunSpecNotKeptError(spec.modelName, 'its dataset file has no library id to keep it by.');
    const { blob: _blob, ...file } = data.file;
    return { ...rest, data: { ...data, file: { ...file, datasetId } } };
  }
  return { ...rest, data: { ...data, examples: data.examples } };
}

/** The runnable spec again, from the model's files and the library file's bytes (when it has one). */
export function restoreSpec(
  kept: KeptRunSpec,
  modelFiles: Record<string, Uint8Array>,
  datasetBlob: Blob | undefined,
): RunSpec {
  const { data, ...rest } = kept.spec;
  if (!data) return { ...rest, modelFiles };
  if (data.file) {
    if (!datasetBlob) throw new RunSpecNotKeptError(kept.runId, 'its dataset was deleted from the library.');
    const { datasetId: _id, ...file } = data.file;
    return { ...rest, modelFiles, data: { ...data, file: { ...file, blob: datasetBlob } } };
  }
  return { ...rest, modelFiles, data: { ...data, examples: data.examples } };
}

/** Whether a kept run can be evaluated on here, and if not, what the person can do about it. */
export type SpecAvailability = { ok: true } | { ok: false; reason: string };

export function specAvailability(
  kept: KeptRunSpec,
  here: { hasModel(modelId: string): boolean; datasetIds: ReadonlySet<string> },
): SpecAvailability {
  const file = kept.spec.data?.file;
  if (file && !here.datasetIds.has(file.datasetId))
    return { ok: false, reason: `dataset deleted (${file.fileName} is no longer in the library)` };
  if (!here.hasModel(kept.modelId))
    return {
      ok: false,
      reason: "model not in this browser's cache — load it in the model picker",
    };
  return { ok: true };
}

export interface RunSpecStore {
  save(entry: KeptRunSpec): Promise<void>;
  load(runId: string): Promise<KeptRunSpec | undefined>;
  list(): Promise<KeptRunSpec[]>;
  remove(runId: string): Promise<void>;
}

const keyOf = (runId: string) => `spec:${runId}`;

export function runSpecStore(store: UseStore): RunSpecStore {
  return {
    save: (entry) => set(keyOf(entry.runId), entry, store),
    load: (runId) => get<KeptRunSpec>(keyOf(runId), store),
    async list() {
      const all = await entries<string, KeptRunSpec>(store);
      return all
        .filter(([key]) => key.startsWith('spec:'))
        .map(([, value]) => value)
        .sort((a, b) => a.savedAt - b.savedAt);
    },
    remove: (runId) => del(keyOf(runId), store),
  };
}

/** The studio's store; created on first use so tests and the CLI never open IndexedDB. */
let browserStore: RunSpecStore | undefined;
export function browserRunSpecStore(): RunSpecStore {
  browserStore ??= runSpecStore(createStore('whetstone-run-specs', 'specs'));
  return browserStore;
}
