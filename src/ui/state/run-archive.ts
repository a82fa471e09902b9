/**
 * Where finished runs are kept across reloads: each run's record (settings, status, complete metric
 * history) in IndexedDB through idb-keyval, keyed by run id. A database of its own, because idb-keyval
 * creates one object store per database. The in-memory archive is for tests.
 */
import { createStore, del, set, type UseStore, values } from 'idb-keyval';
import type { RunRecord } from './run-record';

export interface RunArchive {
  save(record: RunRecord): Promise<void>;
  /** Every kept run, oldest first. */
  list(): Promise<RunRecord[]>;
  remove(id: string): Promise<void>;
}

const byCreation = (a: RunRecord, b: RunRecord) => a.createdAt - b.createdAt || a.groupIndex - b.groupIndex;

export function idbRunArchive(databaseName = 'whetstone-runs'): RunArchive {
  // Opened on first use, so merely importing the store never touches IndexedDB.
  let store: UseStore | undefined;
  const open = () => {
    store ??= createStore(databaseName, 'runs');
    return store;
  };
  return {
    save: (record) => set(record.id, record, open()),
    list: async () => (await values<RunRecord>(open())).sort(byCreation),
    remove: (id) => del(id, open()),
  };
}

export function memoryRunArchive(): RunArchive {
  const kept = new Map<string, RunRecord>();
  return {
    save: async (record) => {
      kept.set(record.id, structuredClone(record));
    },
    list: async () => [...kept.values()].sort(byCreation),
    remove: async (id) => {
      kept.delete(id);
    },
  };
}
