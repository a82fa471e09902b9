import 'fake-indexeddb/auto';
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import {
  type DatasetEntry,
  DatasetNameError,
  DatasetNotFoundError,
  datasetLibrary,
  type NewDatasetEntry,
} from './dataset-library';
import { type StorageAccess, StorageFullError } from './storage-quota';

let dbCount = 0;
const freshStore = () => createStore(`datasets-test-${++dbCount}-${Math.random()}`, 'datasets');

const entryFor = (fileName: string): NewDatasetEntry => ({
  name: fileName,
  fileName,
  format: 'jsonl',
  columns: ['text'],
  schema: { kind: 'text', columns: { text: 'text' } },
  schemaDetected: true,
  settings: { skipBadRows: false },
  stats: { rows: 2, badRows: 0, examples: 2 },
});

const blob = (text: string) => new Blob([text]);
const plenty: StorageAccess = { estimate: async () => ({ usage: 0, quota: 1e9 }) };

function makeLibrary(store: UseStore, storage: StorageAccess = plenty, clock = { t: 1_000 }) {
  let n = 0;
  return datasetLibrary({ store, storage, newId: () => `id${++n}`, now: () => clock.t });
}

/** A store whose puts fail as a full disk does, while `armed`. */
function quotaFailingStore(real: UseStore, state: { armed: boolean }): UseStore {
  return (mode, callback) =>
    real(mode, (objectStore) =>
      callback(
        new Proxy(objectStore, {
          get(target, prop) {
            if (prop === 'put' && state.armed)
              return () => {
                throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
              };
            const value = Reflect.get(target, prop);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
      ),
    );
}

describe('the dataset library', () => {
  it('keeps files and records: add, list, read back, rename, update, remove', async () => {
    const library = makeLibrary(freshStore());
    expect(await library.list()).toEqual([]);
    const a = await library.add(blob('{"text":"a"}\n{"text":"b"}\n'), entryFor('a.jsonl'));
    const b = await library.add(blob('x\n'), { ...entryFor('b.txt'), name: '  Second  ' });
    expect(a).toMatchObject({ id: 'id1', name: 'a.jsonl', size: 26, addedAt: 1_000 });
    expect(b.name).toBe('Second');
    expect((await library.list()).map((e) => e.id)).toEqual(['id1', 'id2']);
    expect(await (await library.file('id1')).text()).toBe('{"text":"a"}\n{"text":"b"}\n');

    await library.rename('id1', ' Alpaca set ');
    await expect(library.rename('id1', '   ')).rejects.toBeInstanceOf(DatasetNameError);
    await expect(library.rename('nope', 'x')).rejects.toThrow(/No dataset with id nope/);
    const updated = await library.update('id2', {
      schema: { kind: 'prompt-completion', columns: { prompt: 'q', completion: 'a' } },
      schemaDetected: false,
      settings: { skipBadRows: true, schema: { kind: 'prompt-completion', columns: { prompt: 'q' } } },
    });
    expect(updated.settings.schema?.columns).toEqual({ prompt: 'q' });
    const listed = await library.list();
    expect(listed.map((e) => e.name)).toEqual(['Alpaca set', 'Second']);
    expect(listed[1]?.schema.kind).toBe('prompt-completion');

    await library.setActive('id1');
    expect(await library.active()).toBe('id1');
    await library.remove('id1');
    expect(await library.active()).toBeNull();
    expect((await library.list()).map((e) => e.id)).toEqual(['id2']);
    await expect(library.file('id1')).rejects.toThrow(/No dataset with id id1/);
  });

  it('drops listed entries whose file is missing, and clears old unlisted files, without failing', async () => {
    const store = freshStore();
    const clock = { t: 1_000 };
    const library = makeLibrary(store, plenty, clock);
    await library.add(blob('keep'), entryFor('keep.txt'));
    await library.add(blob('lost'), entryFor('lost.txt'));
    // A record whose file is gone (the data was cleared under it), a stray non-record, and an import
    // that wrote its file and was interrupted before the index.
    await del('file:id2', store);
    const index = (await get<unknown[]>('index', store)) ?? [];
    await set('index', [...index, { junk: true }], store);
    await set('file:half', { blob: blob('half'), writtenAt: 1_000 }, store);

    expect((await library.list()).map((e) => e.id)).toEqual(['id1']);
    expect(((await get<DatasetEntry[]>('index', store)) ?? []).map((e) => e.id)).toEqual(['id1', undefined]);
    // Within the grace period the half-written file may be another tab's import: it stays.
    expect(await get('file:half', store)).toBeDefined();
    clock.t += 11 * 60_000;
    await library.list();
    expect(await get('file:half', store)).toBeUndefined();
    expect(await (await library.file('id1')).text()).toBe('keep');
  });

  it('refuses a file the estimate says will not fit, naming the space needed and left', async () => {
    const space = { usage: 0, quota: 10_000 };
    const asked: number[] = [];
    const storage: StorageAccess = {
      estimate: async () => ({ ...space }),
      persist: async () => {
        asked.push(1);
        return true;
      },
    };
    const library = makeLibrary(freshStore(), storage);
    await library.add(blob('saved before'), entryFor('before.txt'));
    space.usage = 10_000 - 1_000;
    const error = await library.add(blob('x'.repeat(1_500)), entryFor('big.jsonl')).catch((e) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error).toMatchObject({ needed: 1_500, available: 1_000 });
    expect(error.message).toBe(
      'Not enough browser storage to save "big.jsonl": it needs 1.5 KiB, and 1000 B is left. ' +
        'Delete datasets or adapters you no longer need, or free space in the browser, and try again.',
    );
    const listed = await library.list();
    expect(listed.map((e) => e.name)).toEqual(['before.txt']);
    expect(await (await library.file(listed[0]?.id ?? '')).text()).toBe('saved before');
    // Persistent storage is asked for once, however many imports there are.
    await library.add(blob('small'), entryFor('small.txt'));
    expect(asked).toEqual([1]);
    expect(await library.persisted()).toBe(true);
  });

  it("turns the browser's QuotaExceededError into a StorageFullError and keeps what was saved", async () => {
    const real = freshStore();
    const state = { armed: false };
    const library = makeLibrary(quotaFailingStore(real, state), {
      estimate: async () => ({ usage: 400, quota: 1_000 }),
    });
    await library.add(blob('first'), entryFor('first.txt'));
    state.armed = true;
    const error = await library.add(blob('second!'), entryFor('second.txt')).catch((e) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error.message).toContain('it needs 7 B, and 600 B is left');
    state.armed = false;
    const listed = await library.list();
    expect(listed.map((e) => e.name)).toEqual(['first.txt']);
    expect(await get('file:id2', real)).toBeUndefined();
    expect(await (await library.file('id1')).text()).toBe('first');
  });

  it('replaces a file and its measures in place, or on a full storage keeps the old ones whole', async () => {
    const real = freshStore();
    const state = { armed: false };
    const library = makeLibrary(quotaFailingStore(real, state));
    const { id } = await library.add(blob('{"text":"a"}\n'), entryFor('pairs.jsonl'));
    await library.rename(id, 'My pairs');
    const stats = { rows: 2, badRows: 0, examples: 2 };
    const replaced = await library.replace(id, blob('{"text":"a"}\n{"text":"b"}\n'), { stats });
    expect(replaced).toMatchObject({ id, name: 'My pairs', fileName: 'pairs.jsonl', size: 26, stats });
    expect(await library.list()).toEqual([replaced]);

    state.armed = true;
    const error = await library
      .replace(id, blob('{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n'), { stats: { ...stats, rows: 3 } })
      .catch((e) => e);
    state.armed = false;
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error.message).toContain('save "My pairs": it needs 39 B');
    expect(await library.list()).toEqual([replaced]);
    expect(await (await library.file(id)).text()).toBe('{"text":"a"}\n{"text":"b"}\n');
    await expect(library.replace('gone', blob('x'), {})).rejects.toBeInstanceOf(DatasetNotFoundError);
  });

  it('still saves when the browser gives no estimate', async () => {
    const library = makeLibrary(freshStore(), {});
    await library.add(blob('abc'), entryFor('a.txt'));
    expect((await library.list()).length).toBe(1);
    expect(await library.persisted()).toBe(false);
  });
});
