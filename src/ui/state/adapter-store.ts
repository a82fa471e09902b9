/**
 * Where kept adapters live: IndexedDB through idb-keyval, in a database of their own
 * ("whetstone-adapters"), one entry per adapter with its files as bytes. A memory store with the same
 * interface serves tests. Entries are plain data, so they are stored as they are.
 */
import { createStore, del, get, keys, set } from 'idb-keyval';

export interface AdapterEntry {
  id: string;
  name: string;
  /** The run that trained it; absent for an imported adapter. */
  runId?: string;
  /** PEFT's peft_type (LORA, IA3, PROMPT_TUNING, PREFIX_TUNING) or Whetstone's "BOTTLENECK". */
  peftType: string;
  /** Our method name (lora, dora, ia3, ...) when known. */
  method: string;
  /** The studio model it was trained on, when known. */
  modelId?: string;
  baseModel: string | null;
  createdAt: number;
  /** Measured at the end of its run, when it came from one. */
  finalValLoss?: number;
  trainableParams?: number;
  files: Record<string, Uint8Array>;
}

export interface AdapterStore {
  all(): Promise<AdapterEntry[]>;
  put(entry: AdapterEntry): Promise<void>;
  remove(id: string): Promise<void>;
}

export function idbAdapterStore(): AdapterStore {
  const store = createStore('whetstone-adapters', 'adapters');
  return {
    async all() {
      const ids = (await keys(store)) as string[];
      const entries = await Promise.all(ids.map((id) => get<AdapterEntry>(id, store)));
      return entries.filter((e): e is AdapterEntry => e !== undefined);
    },
    put: (entry) => set(entry.id, entry, store),
    remove: (id) => del(id, store),
  };
}

export function memoryAdapterStore(): AdapterStore {
  const entries = new Map<string, AdapterEntry>();
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
