/**
 * The adapters slice: the library of kept adapters (IndexedDB, see adapter-store.ts). Every PEFT run
 * that ends with files is kept here at once; adapters can be renamed, deleted and imported (a PEFT
 * folder's files, or its zip). Downloads are made from the kept bytes (src/ui/download).
 */

import type { StateCreator } from 'zustand';
import { withSafetensorsWeights } from '../../train/peft/format/pickled-adapter';
import { studioModels } from '../models/model-catalogue';
import { AdapterImportError, filesOfZip, identify, methodOfPeftType } from './adapter-files';
import type { AdapterEntry, AdapterStore } from './adapter-store';
import type { RunRecord } from './run-record';

export interface AdaptersState {
  status: 'loading' | 'ready' | 'unavailable';
  entries: AdapterEntry[];
  error: string | null;
}

export interface AdaptersSlice {
  adapters: AdaptersState;
  loadAdapters(): Promise<void>;
  /** Keeps a finished PEFT run's adapter; full fine-tuning results are whole models and are not kept. */
  keepRunAdapter(record: RunRecord, files: Record<string, Uint8Array>): Promise<void>;
  renameAdapter(id: string, name: string): Promise<void>;
  deleteAdapter(id: string): Promise<void>;
  /** Files picked from a folder, or one zip. */
  importAdapter(files: { name: string; bytes: Uint8Array }[]): Promise<void>;
}

export interface AdaptersDeps {
  store(): AdapterStore;
  newId(): string;
  now(): number;
}

const newestFirst = (entries: AdapterEntry[]) => [...entries].sort((a, b) => b.createdAt - a.createdAt);

export function createAdaptersSlice(deps: AdaptersDeps): StateCreator<AdaptersSlice, [], [], AdaptersSlice> {
  return (set, get) => {
    let store: AdapterStore | undefined;
    const open = () => {
      store ??= deps.store();
      return store;
    };
    const fail = (error: unknown) =>
      set((s) => ({
        adapters: {
          ...s.adapters,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        },
      }));
    const put = async (entry: AdapterEntry) => {
      await open().put(entry);
      set((s) => ({
        adapters: {
          ...s.adapters,
          error: null,
          entries: newestFirst([...s.adapters.entries.filter((e) => e.id !== entry.id), entry]),
        },
      }));
    };

    return {
      adapters: { status: 'loading', entries: [], error: null },

      loadAdapters: async () => {
        try {
          const entries = await open().all();
          set({ adapters: { status: 'ready', entries: newestFirst(entries), error: null } });
        } catch (error) {
          set({
            adapters: {
              status: 'unavailable',
              entries: [],
              error: `Adapters cannot be kept in this browser (IndexedDB: ${error instanceof Error ? error.message : String(error)}).`,
            },
          });
        }
      },

      keepRunAdapter: async (record, files) => {
        if (record.settings.method.method === 'full') return;
        try {
          const identity = identify(files);
          await put({
            id: deps.newId(),
            name: `${record.label} · ${record.settings.modelLabel}`,
            runId: record.id,
            peftType: identity.peftType,
            method: record.settings.method.method,
            modelId: record.settings.modelId,
            baseModel: identity.baseModel,
            createdAt: deps.now(),
            ...(record.evals.length > 0 ? { finalValLoss: record.evals[record.evals.length - 1]?.loss } : {}),
            trainableParams: record.trainableParams,
            files,
          });
        } catch (error) {
          fail(error);
        }
      },

      renameAdapter: async (id, name) => {
        const entry = get().adapters.entries.find((e) => e.id === id);
        const trimmed = name.trim();
        if (!entry || trimmed === '' || trimmed === entry.name) return;
        try {
          await put({ ...entry, name: trimmed });
        } catch (error) {
          fail(error);
        }
      },

      deleteAdapter: async (id) => {
        try {
          await open().remove(id);
          set((s) => ({
            adapters: { ...s.adapters, entries: s.adapters.entries.filter((e) => e.id !== id) },
          }));
        } catch (error) {
          fail(error);
        }
      },

      importAdapter: async (picked) => {
        try {
          if (picked.length === 0) throw new AdapterImportError('No files were chosen.');
          const zip = picked.length === 1 && /\.zip$/i.test(picked[0]?.name ?? '');
          // Older PEFT saved adapter_model.bin; it is kept as adapter_model.safetensors.
          const files = await withSafetensorsWeights(
            zip
              ? filesOfZip((picked[0] as { bytes: Uint8Array }).bytes)
              : Object.fromEntries(picked.map((f) => [f.name.split('/').pop() as string, f.bytes])),
          );
          const identity = identify(files);
          const config = files['adapter_config.json']
            ? (JSON.parse(new TextDecoder().decode(files['adapter_config.json'])) as { use_dora?: unknown })
            : {};
          const folder = zip
            ? (picked[0]?.name ?? '').replace(/\.zip$/i, '')
            : (picked[0]?.name.split('/')[0] ?? '');
          await put({
            id: deps.newId(),
            name: folder && !folder.includes('.') ? folder : `Imported ${identity.peftType} adapter`,
            peftType: identity.peftType,
            method: methodOfPeftType(identity.peftType, config),
            baseModel: identity.baseModel,
            // A studio model of the same name is its base, so the playground can try it.
            ...(() => {
              const model = studioModels.find((m) => m.modelName === identity.baseModel);
              return model ? { modelId: model.id } : {};
            })(),
            createdAt: deps.now(),
            files,
          });
        } catch (error) {
          fail(error);
        }
      },
    };
  };
}
