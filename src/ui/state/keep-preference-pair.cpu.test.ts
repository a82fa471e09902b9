import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { createStore as createZustand } from 'zustand/vanilla';
import { loadDatasetStream } from '../../train/data/stream/load-stream';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { datasetLibrary } from '../storage/dataset-library';
import { type StorageAccess, StorageFullError } from '../storage/storage-quota';
import { datasetAnalyzer, type WorkerLike } from '../workers/dataset-client';
import { handleDatasetRequest } from '../workers/dataset-handler';
import type { DatasetWorkerEvent, DatasetWorkerRequest } from '../workers/dataset-protocol';
import { type AnalysisContext, type DatasetSlice, datasetSliceWith } from './dataset-slice';
import { type KeepPairDeps, keepPreferencePairIn, PreferenceFileSchemaError } from './keep-preference-pair';
import type { PlaygroundColumn, PlaygroundSlice, PlaygroundState } from './playground-slice';
import { type PreferencePairsSlice, pairToKeep, preferencePairsSliceWith } from './preference-pairs-slice';

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
/** A library and dataset worker in this process; `space.quota` is what the storage estimate says. */
function deps(space = { usage: 0, quota: 1e9 }): KeepPairDeps {
  const db = `pairs-${++dbCount}`;
  let n = 0;
  const storage: StorageAccess = { estimate: async () => ({ ...space }) };
  const library = datasetLibrary({
    store: createStore(db, 'datasets'),
    storage,
    newId: () => `${db}-${++n}`,
    now: () => 0,
  });
  const analyzer = datasetAnalyzer(inProcessWorker);
  return { library: () => library, analyzer: () => analyzer };
}

const chatRow = (answer: string, worse: string) => ({
  prompt: [{ role: 'user' as const, content: 'How do I sharpen?' }],
  chosen: [{ role: 'assistant' as const, content: answer }],
  rejected: [{ role: 'assistant' as const, content: worse }],
});

/** The file as a DPO run reads it. */
async function pairsIn(d: KeepPairDeps, id: string, fileName: string) {
  const loaded = await loadDatasetStream(fileName, await d.library().file(id), { skipBadRows: false });
  return loaded.examples;
}

describe('keeping a preference pair in the library', () => {
  it('creates the file with the first pair and appends each later one, re-read and renamed alike', async () => {
    const d = deps();
    const first = await keepPreferencePairIn(d, chatRow('Wet the stone.', 'Any way.'), context);
    expect(first).toMatchObject({
      name: 'playground-preferences.jsonl',
      fileName: 'playground-preferences.jsonl',
      format: 'jsonl',
      schema: { kind: 'preference' },
      stats: { rows: 1, examples: 1, tokens: { count: 1, tokenizer: 'tiny' } },
    });
    await d.library().rename(first.id, 'Sharpening pairs');
    const second = await keepPreferencePairIn(d, chatRow('Go slowly.', 'Press hard.'), context);
    expect(second).toMatchObject({ id: first.id, name: 'Sharpening pairs', stats: { rows: 2, examples: 2 } });
    expect(await d.library().list()).toEqual([second]);
    const examples = await pairsIn(d, first.id, first.fileName);
    expect(examples).toEqual([
      expect.objectContaining({ kind: 'preference', ...chatRow('Wet the stone.', 'Any way.') }),
      expect.objectContaining({ kind: 'preference', ...chatRow('Go slowly.', 'Press hard.') }),
    ]);

    // A raw pair goes to a file of its own, so each file holds one form (as TRL reads it).
    const raw = await keepPreferencePairIn(
      d,
      { prompt: 'The', chosen: ' stone', rejected: ' rock' },
      context,
    );
    expect(raw).toMatchObject({ fileName: 'playground-preferences-raw.jsonl', stats: { examples: 1 } });
    expect(await pairsIn(d, raw.id, raw.fileName)).toEqual([
      expect.objectContaining({ prompt: 'The', chosen: ' stone', rejected: ' rock' }),
    ]);
    expect((await d.library().list()).map((e) => e.stats.examples)).toEqual([2, 1]);
  });

  it('loses nothing on a full storage, and says so', async () => {
    const space = { usage: 0, quota: 1e9 };
    const d = deps(space);
    const first = await keepPreferencePairIn(d, chatRow('Wet the stone.', 'Any way.'), context);
    const before = await (await d.library().file(first.id)).text();
    space.usage = space.quota - 10;
    const error = await keepPreferencePairIn(d, chatRow('Go slowly.', 'Press hard.'), context).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error.message).toContain('Not enough browser storage to save "playground-preferences.jsonl"');
    expect(await (await d.library().file(first.id)).text()).toBe(before);
    expect(await d.library().list()).toEqual([first]);
  });

  it('leaves a file of that name alone when it does not read as preference pairs with the new row', async () => {
    const d = deps();
    const pair = { prompt: 'a', chosen: ' b', rejected: ' c' };
    const kept = await keepPreferencePairIn(d, pair, context);
    const text = await (await d.library().file(kept.id)).text();
    // The person read it as plain text rows (its prompts) in the library.
    await d.library().update(kept.id, {
      settings: { skipBadRows: false, schema: { kind: 'text', columns: { text: 'prompt' } } },
    });
    const error = await keepPreferencePairIn(d, pair, context).catch((e) => e);
    expect(error).toBeInstanceOf(PreferenceFileSchemaError);
    expect(error.message).toContain('is read as text rows, not preference pairs');
    // A file of another kind that does not even read with the row: refused by the reader, by line.
    const mine = await d.library().add(new Blob(['{"text": "mine"}\n']), {
      ...kept,
      fileName: 'playground-preferences.jsonl',
      columns: ['text'],
      schema: { kind: 'text', columns: { text: 'text' } },
    });
    const unread = await keepPreferencePairIn(d, chatRow('x', 'y'), context).catch((e) => e);
    expect(unread.message).toContain('playground-preferences.jsonl, line 1: the chosen response');
    expect(await (await d.library().file(kept.id)).text()).toBe(text);
    expect(await (await d.library().file(mine.id)).text()).toBe('{"text": "mine"}\n');
  });
});

type Store = PreferencePairsSlice & DatasetSlice & Pick<PlaygroundSlice, 'playground'>;

function studio(d: KeepPairDeps, columns: PlaygroundColumn[]) {
  const playground: PlaygroundState = {
    prompt: 'edited since',
    fields: { maxNewTokens: '8', temperature: '0', topK: '0', topP: '1', seed: '0' },
    template: 'auto',
    columns,
    answered: { prompt: 'How do I sharpen?', round: 1 },
    problem: null,
    adapterIds: [],
    classify: { text: '', pair: '', columns: [], problem: null },
  };
  return createZustand<Store>()((...args) => ({
    ...datasetSliceWith(d)(...args),
    ...preferencePairsSliceWith(d)(...args),
    playground,
  }));
}

const answer = (key: string, text: string): PlaygroundColumn => ({
  key,
  label: key,
  color: 'red',
  status: 'done',
  text,
  templated: true,
});

describe('the playground keeping pairs', () => {
  it('keeps the marked answers of the prompt they answered, once, and lists the file', async () => {
    const d = deps();
    const store = studio(d, [
      answer('base', 'Any way.'),
      answer('run', 'Wet the stone.'),
      answer('x', 'Hm.'),
    ]);
    const s = () => store.getState();
    await s().loadDatasetLibrary(context);
    s().markAnswer('run', 'better');
    s().markAnswer('run', 'worse');
    expect(s().preferencePairs.marks).toMatchObject({ better: null, worse: 'run' });
    s().markAnswer('run', 'better');
    s().markAnswer('base', 'worse');
    await s().keepPreferencePair(context);
    expect(s().preferencePairs).toMatchObject({ saving: false, error: null, marks: { better: null } });
    const [entry] = s().dataset.library.entries;
    expect(entry).toMatchObject({ fileName: 'playground-preferences.jsonl', stats: { examples: 1 } });
    expect(await pairsIn(d, entry?.id ?? '', 'playground-preferences.jsonl')).toEqual([
      expect.objectContaining(chatRow('Wet the stone.', 'Any way.')),
    ]);
    s().markAnswer('run', 'better');
    s().markAnswer('base', 'worse');
    expect(pairToKeep(s())).toEqual({ problem: 'This pair is kept already: mark another.' });
    await s().keepPreferencePair(context);
    expect(s().dataset.library.entries[0]?.stats.examples).toBe(1);

    // The file in use as the studio's dataset is read again, so the next run trains on every pair.
    await s().selectDataset(entry?.id ?? '', context);
    // Base is still marked worse: another better answer makes another pair.
    s().markAnswer('x', 'better');
    await s().keepPreferencePair(context);
    const work = s().dataset.work;
    expect(work.status === 'ready' && work.analysis.examples).toBe(2);
    expect(s().dataset.library.entries[0]?.stats.examples).toBe(2);
  });

  it('shows a full storage, keeping the marks to try again', async () => {
    const space = { usage: 0, quota: 1e9 };
    const d = deps(space);
    const store = studio(d, [answer('base', 'Any way.'), answer('run', 'Wet the stone.')]);
    const s = () => store.getState();
    space.usage = space.quota;
    s().markAnswer('run', 'better');
    s().markAnswer('base', 'worse');
    await s().keepPreferencePair(context);
    expect(s().preferencePairs.error).toMatch(/^The pair was not kept: Not enough browser storage/);
    expect(s().preferencePairs.marks).toMatchObject({ better: 'run', worse: 'base' });
    expect(await d.library().list()).toEqual([]);
  });
});
