/**
 * The dataset slice: the studio's dataset, from one of two sources.
 * - Pasted text (`setDatasetText`): read at once on the main thread, as it is short by nature; the
 *   count, preview and any error always match the text on screen.
 * - A file in the library: dropped or chosen files are read, parsed and tokenized in the dataset worker
 *   (with progress), saved to the library (IndexedDB) once they read cleanly, and made the studio's
 *   dataset. A file that fails stays in memory (never saved) with its error, so the person can skip bad
 *   rows or map columns and try again. Which entry is active is saved too, so a reload finds it.
 * `reading` says whether the dataset can train (or its first bad line); `trainingDataOf` is what a run
 * takes: pasted text as its examples' texts, a library file as the file with its read settings.
 * A result that arrives after the person has moved on (another file, another entry) is dropped.
 */
import type { StateCreator } from 'zustand';
import type {
  DatasetEntry,
  DatasetLibrary,
  DatasetReadSettings,
  NewDatasetEntry,
} from '../storage/dataset-library';
import type { DatasetAnalyzer } from '../workers/dataset-client';
import type {
  AnalysisFailure,
  AnalysisPhase,
  AnalysisTokenizer,
  DatasetAnalysis,
} from '../workers/dataset-protocol';
import { type DatasetReading, readDataset } from './read-dataset';

/** What the analysis of a file depends on beyond the file: the chosen model and sequence length. */
export interface AnalysisContext {
  tokenizer?: AnalysisTokenizer;
  maxLength?: number;
  /** The setup's prompt-masking switch, so the preview shows the spans training will learn (default on). */
  maskPrompt?: boolean;
}

interface PendingFile {
  file: Blob;
  fileName: string;
  settings: DatasetReadSettings;
  /** The library entry being re-read, or null for a new file. */
  entryId: string | null;
}

export type DatasetWork =
  | { status: 'idle' }
  | { status: 'working'; fileName: string; phase: AnalysisPhase; done: number; total: number }
  | {
      status: 'ready';
      analysis: DatasetAnalysis;
      entryId: string;
      /** The library entry's raw file and how it was read: what a training run reads in its worker. */
      file: Blob;
      settings: DatasetReadSettings;
    }
  | { status: 'failed'; fileName: string; error: AnalysisFailure['error']; pending: PendingFile };

export interface LibraryState {
  status: 'loading' | 'ready' | 'unavailable';
  entries: DatasetEntry[];
  activeId: string | null;
  /** A storage problem to show (a full quota, a failed rename), or null. */
  error: string | null;
  /** Whether the browser granted persistent storage; null until asked (on the first import). */
  persisted: boolean | null;
}

export interface DatasetState {
  source: 'pasted' | 'library';
  text: string;
  /** The dropped or chosen file's name; null for pasted text. */
  fileName: string | null;
  reading: DatasetReading;
  work: DatasetWork;
  library: LibraryState;
}

export interface DatasetSlice {
  dataset: DatasetState;
  setDatasetText(text: string, fileName?: string | null): void;
  loadDatasetLibrary(context: AnalysisContext): Promise<void>;
  importDatasetFile(file: File, context: AnalysisContext): Promise<void>;
  selectDataset(id: string, context: AnalysisContext): Promise<void>;
  /** Reads the active or failed file again with other settings (schema, mapping, skip bad rows). */
  rereadDataset(change: Partial<DatasetReadSettings>, context: AnalysisContext): Promise<void>;
  renameDataset(id: string, name: string): Promise<void>;
  deleteDataset(id: string): Promise<void>;
  /** The file as kept (its bytes and file name), for a download; a library error is shown, not thrown. */
  datasetFile(id: string): Promise<{ fileName: string; bytes: Uint8Array } | null>;
  /** Lists the library again, after another part of the studio wrote to it (a kept preference pair). */
  refreshDatasetLibrary(): Promise<void>;
}

export interface DatasetSliceDeps {
  library: () => DatasetLibrary;
  analyzer: () => DatasetAnalyzer;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const emptyReading: DatasetReading = { ok: true, format: 'text', rows: [] };

/** A file read cleanly; its examples stay in the workers (training reads the file itself). */
function readingOf(analysis: DatasetAnalysis): DatasetReading {
  return { ok: true, format: analysis.format, rows: [] };
}

function failedReading(error: AnalysisFailure['error'], fileName: string): DatasetReading {
  if (error.line === undefined) return emptyReading;
  const prefix = `${fileName}, ${error.unit ?? 'line'} ${error.line}: `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return { ok: false, format: 'text', line: error.line, message: error.message, problem };
}

function failureOf(error: unknown): AnalysisFailure['error'] {
  const e = error as {
    errorName?: string;
    name?: string;
    line?: number;
    unit?: 'line' | 'row';
    columns?: string[];
  };
  return {
    name: e.errorName ?? e.name ?? 'Error',
    message: message(error),
    ...(e.line === undefined ? {} : { line: e.line }),
    ...(e.unit === undefined ? {} : { unit: e.unit }),
    ...(e.columns === undefined ? {} : { columns: e.columns }),
  };
}

export function entryFromAnalysis(
  analysis: DatasetAnalysis,
  fileName: string,
  settings: DatasetReadSettings,
): NewDatasetEntry {
  const t = analysis.tokens;
  return {
    name: fileName,
    fileName,
    format: analysis.format,
    columns: analysis.columns,
    schema: analysis.schema,
    schemaDetected: analysis.schemaDetected,
    settings,
    stats: {
      rows: analysis.rows,
      badRows: analysis.badRows,
      examples: analysis.examples,
      ...(t
        ? {
            tokens: {
              count: t.count,
              total: t.total,
              min: t.min,
              mean: t.mean,
              p50: t.p50,
              p95: t.p95,
              max: t.max,
              tokenizer: t.modelId,
            },
          }
        : {}),
    },
  };
}

export function datasetSliceWith(deps: DatasetSliceDeps): StateCreator<DatasetSlice, [], [], DatasetSlice> {
  return (set, get) => {
    /** Bumped by every new piece of work; a result for an older one is dropped. */
    let workSeq = 0;
    const patch = (change: Partial<DatasetState>) => set((s) => ({ dataset: { ...s.dataset, ...change } }));
    const patchLibrary = (change: Partial<LibraryState>) =>
      set((s) => ({ dataset: { ...s.dataset, library: { ...s.dataset.library, ...change } } }));
    const refresh = async () => patchLibrary({ entries: await deps.library().list() });

    /** Analyse `pending` in the worker; on success save (new file) or update (entry) and make it active. */
    const analyse = async (pending: PendingFile, context: AnalysisContext) => {
      const seq = ++workSeq;
      const { file, fileName, settings } = pending;
      patch({
        source: 'library',
        text: '',
        fileName,
        reading: emptyReading,
        work: { status: 'working', fileName, phase: 'reading', done: 0, total: file.size },
      });
      let analysis: DatasetAnalysis;
      try {
        analysis = await deps.analyzer().analyze(
          {
            file,
            fileName,
            settings,
            tokenizer: context.tokenizer,
            maxLength: context.maxLength,
            ...(context.maskPrompt === undefined ? {} : { maskPrompt: context.maskPrompt }),
          },
          (p) => {
            if (seq === workSeq)
              patch({
                work: { status: 'working', fileName, phase: p.phase, done: p.done, total: p.total },
              });
          },
        );
      } catch (error) {
        if (seq !== workSeq) return;
        const failure = failureOf(error);
        patch({
          reading: failedReading(failure, fileName),
          work: { status: 'failed', fileName, error: failure, pending },
        });
        return;
      }
      if (seq !== workSeq) return;
      const library = deps.library();
      const entry = entryFromAnalysis(analysis, fileName, settings);
      try {
        let id = pending.entryId;
        if (id === null) {
          id = (await library.add(file, entry)).id;
          patchLibrary({ persisted: await library.persisted() });
        } else {
          const { name: _keepName, ...reread } = entry;
          await library.update(id, reread);
        }
        await library.setActive(id);
        await refresh();
        if (seq !== workSeq) return;
        patchLibrary({ activeId: id, error: null });
        patch({
          reading: readingOf(analysis),
          work: { status: 'ready', analysis, entryId: id, file, settings },
        });
      } catch (error) {
        if (seq !== workSeq) return;
        // Not saved (a full quota): the file stays in memory with the reason, nothing else changes.
        const failure = failureOf(error);
        patchLibrary({ error: failure.message });
        patch({ reading: emptyReading, work: { status: 'failed', fileName, error: failure, pending } });
      }
    };

    return {
      dataset: {
        source: 'pasted',
        text: '',
        fileName: null,
        reading: readDataset('', null),
        work: { status: 'idle' },
        library: { status: 'loading', entries: [], activeId: null, error: null, persisted: null },
      },

      setDatasetText: (text, fileName = null) => {
        workSeq++;
        const wasLibrary = get().dataset.source === 'library';
        patch({
          source: 'pasted',
          text,
          fileName,
          reading: readDataset(text, fileName),
          work: { status: 'idle' },
        });
        if (wasLibrary) {
          patchLibrary({ activeId: null });
          void deps
            .library()
            .setActive(null)
            .catch(() => undefined);
        }
      },

      loadDatasetLibrary: async (context) => {
        try {
          const library = deps.library();
          const [entries, activeId] = await Promise.all([library.list(), library.active()]);
          patchLibrary({ status: 'ready', entries });
          const active = entries.find((e) => e.id === activeId);
          if (active && get().dataset.source === 'pasted' && get().dataset.text === '')
            await get().selectDataset(active.id, context);
        } catch (error) {
          patchLibrary({
            status: 'unavailable',
            error: `The dataset library cannot be opened: ${message(error)}`,
          });
        }
      },

      importDatasetFile: (file, context) =>
        analyse({ file, fileName: file.name, settings: { skipBadRows: false }, entryId: null }, context),

      selectDataset: async (id, context) => {
        const entry = get().dataset.library.entries.find((e) => e.id === id);
        if (!entry) return;
        patchLibrary({ activeId: id });
        try {
          const file = await deps.library().file(id);
          await analyse({ file, fileName: entry.fileName, settings: entry.settings, entryId: id }, context);
        } catch (error) {
          patchLibrary({ error: message(error) });
          await refresh().catch(() => undefined);
        }
      },

      rereadDataset: async (change, context) => {
        const { work, library } = get().dataset;
        if (work.status === 'failed') {
          await analyse({ ...work.pending, settings: { ...work.pending.settings, ...change } }, context);
          return;
        }
        const entry = library.entries.find((e) => e.id === library.activeId);
        if (!entry) return;
        const file = await deps.library().file(entry.id);
        await analyse(
          { file, fileName: entry.fileName, settings: { ...entry.settings, ...change }, entryId: entry.id },
          context,
        );
      },

      renameDataset: async (id, name) => {
        try {
          await deps.library().rename(id, name);
          await refresh();
          patchLibrary({ error: null });
        } catch (error) {
          patchLibrary({ error: message(error) });
        }
      },

      deleteDataset: async (id) => {
        try {
          await deps.library().remove(id);
          if (get().dataset.library.activeId === id) {
            workSeq++;
            patch({ fileName: null, reading: emptyReading, work: { status: 'idle' } });
            patchLibrary({ activeId: null });
          }
          await refresh();
        } catch (error) {
          patchLibrary({ error: message(error) });
        }
      },

      datasetFile: async (id) => {
        try {
          const entry = (await deps.library().list()).find((e) => e.id === id);
          if (!entry) throw new Error('That dataset is no longer in the library.');
          const blob = await deps.library().file(id);
          return { fileName: entry.fileName, bytes: new Uint8Array(await blob.arrayBuffer()) };
        } catch (error) {
          patchLibrary({ error: message(error) });
          return null;
        }
      },

      refreshDatasetLibrary: () => refresh().catch((error) => patchLibrary({ error: message(error) })),
    };
  };
}

/**
 * What a training run takes from the studio's dataset: pasted text as its examples' texts, or a library
 * file as the file itself with the person's read settings, which the training worker reads and prepares
 * with the data pipeline (chat template, prompt masking), so the examples never pass through the page.
 */
export type TrainingDataset =
  | { kind: 'texts'; texts: string[] }
  | {
      kind: 'file';
      file: Blob;
      fileName: string;
      settings: DatasetReadSettings;
      format: DatasetAnalysis['format'];
      /** Examples a language model trains on (classification rows train a head, not counted). */
      examples: number;
      /** Labelled rows (classification and sentence-pair) a classifier trains on; absent: none. */
      labeledExamples?: number;
      /** Preference pairs (prompt, chosen, rejected) a DPO run trains on; absent: none. */
      preferencePairs?: number;
    };

export function trainingDataOf(dataset: DatasetState): TrainingDataset {
  const work = dataset.work;
  if (dataset.source === 'library' && work.status === 'ready')
    return {
      kind: 'file',
      file: work.file,
      fileName: dataset.fileName ?? work.analysis.file,
      settings: work.settings,
      format: work.analysis.format,
      examples: work.analysis.trainableExamples,
      labeledExamples: Object.values(work.analysis.labels?.counts ?? {}).reduce((a, b) => a + b, 0),
      ...(work.analysis.schema.kind === 'preference'
        ? { preferencePairs: work.analysis.trainableExamples }
        : {}),
    };
  return { kind: 'texts', texts: datasetTexts(dataset) };
}

/** The examples' texts, or none while the dataset has an error. */
export function datasetTexts(dataset: DatasetState): string[] {
  return dataset.reading.ok ? dataset.reading.rows.map((row) => row.text) : [];
}
