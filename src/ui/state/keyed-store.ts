/**
 * A list of plain-data entries keyed by their `id`: in IndexedDB through idb-keyval (a database of its
 * own per kind of entry), or in memory with the same interface for tests. The adapter library and the
 * adapter evaluations both keep their entries this way.
 */
import { createStore, del, get, keys, set } from 'idb-keyval';

export interface KeyedStore<Entry extends { id: string }> {
  all(): Promise<Entry[]>;
  put(entry: Entry): Promise<void>;
  remove(id: string): Promise<void>;
}

export function idbKeyedStore<Entry extends { id: string }>(
  databaseName: string,
  storeName: string,
): KeyedStore<Entry> {
  const store = createStore(databaseName, storeName);
  return {
    async all() {
      const ids = (await keys(store)) as string[];
      const entries: (Entry | undefined)[] = await Promise.all(ids.map((id) => get<Entry>(id, store)));
      return entries.filter((e): e is Entry => e !== undefined);
    },
    put: (entry) => set(entry.id, entry, store),
    remove: (id) => del(id, store),
  };
}

/** Copies on the way in and out, as IndexedDB's structured clone does. */
export function memoryKeyedStore<Entry extends { id: string }>(): KeyedStore<Entry> {
  const entries = new Map<string, Entry>();
  return {
    all: async () => [...entries.values()].map((e) => structuredClone(e)),
    put: async (entry) => {
      entries.set(entry.id, structuredClone(entry));
    },
    remove: async (id) => {
      entries.delete(id);
    },
  };
}
