/**
 * Training checkpoints that survive closing the tab: for each run, its latest checkpoint (trainable
 * tensors, optimizer moments, data position) and what is needed to start it again (its RunSpec without
 * the model's files, which come back from the built-in model or the browser's model cache, plus the
 * model's id), in IndexedDB through idb-keyval, a database of its own ('whetstone-checkpoints').
 *
 * Layout: `run:<runId>` is the run's pointer { runId, key, step, ... }; the checkpoint itself lives
 * under `state:<runId>:<n>`. A save writes the new checkpoint under a new key first, then flips the
 * pointer, then deletes the old checkpoint, so a tab closed at any moment leaves the previous checkpoint
 * or the new one, whole, never a half of each. A full quota (from the estimate before writing, or the
 * browser's QuotaExceededError) throws StorageFullError after removing the half-written new key; the
 * previous checkpoint and its pointer are untouched.
 */
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import type { CheckpointState } from '../../train/checkpoint-state';
import type { RunSpec } from '../../train/worker/run-spec';
import {
  ensureSpace,
  isQuotaExceeded,
  type StorageAccess,
  StorageFullError,
  spaceLeft,
} from './storage-quota';

/** A run's spec as kept: everything but the model's files (large, and kept elsewhere) and a checkpoint. */
export type StoredRunSpec = Omit<RunSpec, 'modelFiles' | 'resumeFrom'>;

export interface StoredCheckpoint {
  runId: string;
  step: number;
  /** The studio model the run trained (the built-in model, or a hub model in the browser cache). */
  modelId: string;
  spec: StoredRunSpec;
  checkpoint: CheckpointState;
  savedAt: number;
}

interface Pointer {
  runId: string;
  key: string;
  step: number;
  modelId: string;
  spec: StoredRunSpec;
  savedAt: number;
}

export interface CheckpointStore {
  save(entry: StoredCheckpoint): Promise<void>;
  load(runId: string): Promise<StoredCheckpoint | undefined>;
  /** Runs with a checkpoint kept, and its step. */
  list(): Promise<{ runId: string; step: number; modelId: string }[]>;
  remove(runId: string): Promise<void>;
}

/** Bytes a checkpoint takes, near enough to check the quota: its tensors' data. */
export function checkpointBytes(checkpoint: CheckpointState): number {
  let bytes = 0;
  for (const tensor of checkpoint.tensors.values()) bytes += tensor.data.byteLength;
  return bytes;
}

export function checkpointStore(options: {
  store: UseStore;
  storage: StorageAccess;
  /** Distinct per save, so a new checkpoint never overwrites the one its pointer still names. */
  newKey?: (runId: string) => string;
}): CheckpointStore {
  const { store, storage } = options;
  let counter = 0;
  const newKey = options.newKey ?? ((runId: string) => `state:${runId}:${Date.now()}-${++counter}`);
  const pointerKey = (runId: string) => `run:${runId}`;

  return {
    async save(entry) {
      const what = `the checkpoint of run ${entry.runId} at step ${entry.step}`;
      const needed = checkpointBytes(entry.checkpoint);
      await ensureSpace(storage, what, needed);
      const key = newKey(entry.runId);
      const before = await get<Pointer>(pointerKey(entry.runId), store);
      try {
        await set(key, entry.checkpoint, store);
        const pointer: Pointer = {
          runId: entry.runId,
          key,
          step: entry.step,
          modelId: entry.modelId,
          spec: entry.spec,
          savedAt: entry.savedAt,
        };
        await set(pointerKey(entry.runId), pointer, store);
      } catch (error) {
        // The new key is dropped; the pointer still names the previous checkpoint, which is whole.
        await del(key, store).catch(() => undefined);
        if (isQuotaExceeded(error))
          throw new StorageFullError(what, needed, await spaceLeft(storage).catch(() => Number.NaN));
        throw error;
      }
      if (before && before.key !== key) await del(before.key, store);
    },

    async load(runId) {
      const pointer = await get<Pointer>(pointerKey(runId), store);
      if (!pointer) return undefined;
      const checkpoint = await get<CheckpointState>(pointer.key, store);
      if (!checkpoint) return undefined;
      const { key: _key, ...rest } = pointer;
      return { ...rest, checkpoint };
    },

    async list() {
      const all = (await keys(store)).map(String);
      const pointers = await Promise.all(
        all.filter((k) => k.startsWith('run:')).map((k) => get<Pointer>(k, store)),
      );
      const listed = pointers.filter((p): p is Pointer => p !== undefined);
      // Checkpoints no pointer names (a tab closed between a write and its flip) are cleared.
      const named = new Set(listed.map((p) => p.key));
      await Promise.all(all.filter((k) => k.startsWith('state:') && !named.has(k)).map((k) => del(k, store)));
      return listed.map((p) => ({ runId: p.runId, step: p.step, modelId: p.modelId }));
    },

    async remove(runId) {
      const pointer = await get<Pointer>(pointerKey(runId), store);
      // Pointer first: a tab closed in between leaves an unnamed checkpoint, cleared by `list`.
      await del(pointerKey(runId), store);
      if (pointer) await del(pointer.key, store);
    },
  };
}

/** The browser's checkpoint store, opened on first use so importing it touches no database. */
export function browserCheckpointStore(storage: StorageAccess): CheckpointStore {
  let opened: CheckpointStore | undefined;
  const open = () => {
    opened ??= checkpointStore({ store: createStore('whetstone-checkpoints', 'checkpoints'), storage });
    return opened;
  };
  return {
    save: (entry) => open().save(entry),
    load: (runId) => open().load(runId),
    list: () => open().list(),
    remove: (runId) => open().remove(runId),
  };
}
