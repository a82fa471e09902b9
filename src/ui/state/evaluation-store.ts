/**
 * Where adapter evaluations live: IndexedDB through idb-keyval, in a database of their own
 * ("whetstone-evaluations"), one entry per evaluation, beside the run history (which keeps the runs).
 * A memory store with the same interface serves tests. Entries are plain data.
 */
import { createStore, del, get, keys, set } from 'idb-keyval';

/** A kept adapter scored on a run's validation split, with the run's own numbers as they were then. */
export interface AdapterEvaluation {
  id: string;
  adapterId: string;
  adapterName: string;
  /** True for an adapter imported into the library (trained elsewhere), false for one a run here kept. */
  imported: boolean;
  runId: string;
  runLabel: string;
  runColor: string;
  /** The run's last step, where the chart marks the adapter's loss. */
  runFinalStep: number;
  /** The run's own final validation loss, as its run measured it. */
  runFinalValLoss?: number;
  /** The adapter's mean validation loss on the run's split, measured by the training worker. */
  loss: number;
  /** Validation examples scored. */
  examples: number;
  createdAt: number;
}

export interface EvaluationStore {
  all(): Promise<AdapterEvaluation[]>;
  put(entry: AdapterEvaluation): Promise<void>;
  remove(id: string): Promise<void>;
}

export function idbEvaluationStore(): EvaluationStore {
  const store = createStore('whetstone-evaluations', 'evaluations');
  return {
    async all() {
      const ids = (await keys(store)) as string[];
      const entries = await Promise.all(ids.map((id) => get<AdapterEvaluation>(id, store)));
      return entries.filter((e): e is AdapterEvaluation => e !== undefined);
    },
    put: (entry) => set(entry.id, entry, store),
    remove: (id) => del(id, store),
  };
}

export function memoryEvaluationStore(): EvaluationStore {
  const entries = new Map<string, AdapterEvaluation>();
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
