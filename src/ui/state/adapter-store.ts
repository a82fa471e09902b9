/**
 * Where kept adapters live: IndexedDB through idb-keyval, in a database of their own
 * ("whetstone-adapters"), one entry per adapter with its files as bytes. A memory store with the same
 * interface serves tests. Entries are plain data, so they are stored as they are.
 */
import { idbKeyedStore, type KeyedStore, memoryKeyedStore } from './keyed-store';

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

export type AdapterStore = KeyedStore<AdapterEntry>;

export const idbAdapterStore = (): AdapterStore =>
  idbKeyedStore<AdapterEntry>('whetstone-adapters', 'adapters');

export const memoryAdapterStore = (): AdapterStore => memoryKeyedStore<AdapterEntry>();
