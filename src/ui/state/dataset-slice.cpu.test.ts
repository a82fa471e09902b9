import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { createStore as createZustand } from 'zustand/vanilla';
import { loadDatasetStream } from '../../train/data/stream/load-stream';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { datasetLibrary } from '../storage/dataset-library';
import type { StorageAccess } from '../storage/storage-quota';
import { datasetAnalyzer, type WorkerLike } from '../workers/dataset-client';
import { handleDatasetRequest } from '../workers/dataset-handler';
import type { DatasetWorkerEvent, DatasetWorkerRequest } from '../workers/dataset-protocol';
import {
  type AnalysisContext,
  type DatasetSlice,
  type DatasetState,
  datasetSliceWith,
  trainingDataOf,
} from './dataset-slice';

const files = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, content]) => [
    name,
    typeof content === 'string' ? new TextEncoder().encode(content) : content,
  ]),
);
const context: AnalysisContext = { tokenizer: { modelId: 'tiny', files }, maxLength: 64 };

function inProcessWorker(): WorkerLike {
  let listener: ((event: MessageEvent<DatasetWorkerEvent>) => void) | undefined;
  return {
    postMessage: (request: DatasetWorkerRequest) =>
      void handleDatasetRequest(request, (event) =>
        listener?.({ data: event } as MessageEvent<DatasetWorkerEvent>),
      ),
    addEventListener: ((type: string, l: (event: MessageEvent<DatasetWorkerEvent>) => void) => {
      if (type === 'message') listener = l;
    }) as WorkerLike['addEventListener'],
  };
}

let dbCount = 0;
/** A store over one IndexedDB database; a second call with the same name is the same page after a reload. */
function studio(
  dbName: string,
  storage: StorageAccess = { estimate: async () => ({ usage: 0, quota: 1e9 }) },
) {
  let n = 0;
  const library = datasetLibrary({
    store: createStore(dbName, 'datasets'),
    storage,
    newId: () => `${dbName}-${++n}`,
    now: () => 0,
  });
  const analyzer = datasetAnalyzer(inProcessWorker);
  return createZustand<DatasetSlice>()(
    datasetSliceWith({ library: () => library, analyzer: () => analyzer }),
  );
}

const file = (text: string, name: string) => new File([text], name);

/** What a training run reads from the dataset: pasted texts, or the library file read with its settings. */
async function trainedTexts(dataset: DatasetState): Promise<string[]> {
  const data = trainingDataOf(dataset);
  if (data.kind === 'texts') return data.texts;
  const { schema, skipBadRows, textMode } = data.settings;
  const loaded = await loadDatasetStream(data.fileName, data.file, { schema, skipBadRows, textMode });
  return loaded.examples.map((e) =>
    e.kind === 'text' ? e.text : e.kind === 'prompt-completion' ? e.prompt + e.completion : e.kind,
  );
}
const qa =
  '{"prompt": "Q: hi ", "completion": "A: hello"}\n{"prompt": "Q: bye ", "completion": "A: see you"}\n';

describe('the dataset slice', () => {
  it('reads a dropped file, saves it, makes it the dataset, and finds it again after a reload', async () => {
    const db = `slice-${++dbCount}`;
    const store = studio(db);
    await store.getState().loadDatasetLibrary(context);
    await store.getState().importDatasetFile(file(qa, 'qa.jsonl'), context);
    const { dataset } = store.getState();
    expect(dataset.source).toBe('library');
    expect(dataset.work.status).toBe('ready');
    expect(dataset.library.entries.map((e) => [e.name, e.stats.examples, e.schema.kind])).toEqual([
      ['qa.jsonl', 2, 'prompt-completion'],
    ]);
    expect(await trainedTexts(dataset)).toEqual(['Q: hi A: hello', 'Q: bye A: see you']);
    expect(dataset.library.entries[0]?.stats.tokens).toMatchObject({
      count: 2,
      tokenizer: 'tiny',
      // BOS + bytes + EOS, one token per byte.
      max: 1 + 'Q: bye A: see you'.length + 1,
    });

    const reloaded = studio(db);
    await reloaded.getState().loadDatasetLibrary(context);
    const after = reloaded.getState().dataset;
    expect(after.library.activeId).toBe(dataset.library.activeId);
    expect(after.work.status === 'ready' && after.work.analysis.preview[0]).toMatchObject({
      kind: 'tokens',
      spans: [
        { text: '<s>Q: hi ', trained: false },
        { text: 'A: hello</s>', trained: true },
      ],
    });
  });

  it('keeps a malformed file out of the library, names its line, and saves it once bad rows are skipped', async () => {
    const store = studio(`slice-${++dbCount}`);
    await store.getState().loadDatasetLibrary(context);
    await store
      .getState()
      .importDatasetFile(file('{"text": "a"}\n{"text": b}\n{"text": "c"}\n', 'bad.jsonl'), context);
    let { dataset } = store.getState();
    expect(dataset.work).toMatchObject({ status: 'failed', error: { name: 'DatasetRowError', line: 2 } });
    expect(dataset.reading).toMatchObject({ ok: false, line: 2, problem: 'not valid JSON: {"text": b}' });
    expect(dataset.library.entries).toEqual([]);

    await store.getState().rereadDataset({ skipBadRows: true }, context);
    ({ dataset } = store.getState());
    expect(dataset.work.status).toBe('ready');
    expect(await trainedTexts(dataset)).toEqual(['a', 'c']);
    expect(dataset.library.entries[0]).toMatchObject({
      stats: { rows: 3, badRows: 1, examples: 2 },
      settings: { skipBadRows: true },
    });
  });

  it("re-reads an entry with the person's schema, and renames and deletes entries", async () => {
    const store = studio(`slice-${++dbCount}`);
    await store.getState().loadDatasetLibrary(context);
    await store.getState().importDatasetFile(file('q,a\nhow?,so\n', 'pairs.csv'), context);
    let { dataset } = store.getState();
    expect(dataset.work).toMatchObject({
      status: 'failed',
      error: { name: 'SchemaDetectionError', columns: ['q', 'a'] },
    });
    await store
      .getState()
      .rereadDataset(
        { schema: { kind: 'prompt-completion', columns: { prompt: 'q', completion: 'a' } } },
        context,
      );
    ({ dataset } = store.getState());
    const id = dataset.library.activeId as string;
    expect(dataset.library.entries[0]).toMatchObject({
      id,
      schemaDetected: false,
      schema: { kind: 'prompt-completion' },
    });
    expect(await trainedTexts(dataset)).toEqual(['how?so']);

    await store.getState().rereadDataset({ schema: { kind: 'text', columns: { text: 'q' } } }, context);
    expect(store.getState().dataset.library.entries[0]?.schema).toEqual({
      kind: 'text',
      columns: { text: 'q' },
    });
    expect(await trainedTexts(store.getState().dataset)).toEqual(['how?']);

    await store.getState().renameDataset(id, 'My pairs');
    expect(store.getState().dataset.library.entries[0]?.name).toBe('My pairs');
    await store.getState().renameDataset(id, ' ');
    expect(store.getState().dataset.library.error).toMatch(/needs a name/);
    await store.getState().deleteDataset(id);
    ({ dataset } = store.getState());
    expect(dataset.library.entries).toEqual([]);
    expect(dataset.work.status).toBe('idle');
    expect(await trainedTexts(dataset)).toEqual([]);
  });

  it('shows a full quota as the reason the file was not saved, keeping the file to retry', async () => {
    const store = studio(`slice-${++dbCount}`, { estimate: async () => ({ usage: 990, quota: 1_000 }) });
    await store.getState().loadDatasetLibrary(context);
    await store.getState().importDatasetFile(file(qa, 'qa.jsonl'), context);
    const { dataset } = store.getState();
    expect(dataset.work).toMatchObject({ status: 'failed', error: { name: 'StorageFullError' } });
    expect(dataset.library.error).toContain(
      `needs ${new TextEncoder().encode(qa).length} B, and 10 B is left`,
    );
    expect(dataset.library.entries).toEqual([]);
  });

  it('pasting text makes the pasted text the dataset again', async () => {
    const store = studio(`slice-${++dbCount}`);
    await store.getState().loadDatasetLibrary(context);
    await store.getState().importDatasetFile(file(qa, 'qa.jsonl'), context);
    store.getState().setDatasetText('one\ntwo');
    const { dataset } = store.getState();
    expect(dataset.source).toBe('pasted');
    expect(dataset.library.activeId).toBeNull();
    expect(await trainedTexts(dataset)).toEqual(['one', 'two']);
  });
});
