/**
 * The dataset library in IndexedDB (idb-keyval, its own database): each entry is the raw file, its name,
 * the schema as detected or as the person mapped it, and statistics measured when it was read.
 *
 * Layout: `file:<id>` holds { blob, writtenAt }; `index` holds the entries' records, in import order;
 * `active` holds the id the studio uses. An import writes the file first and adds its record to the index
 * last, in one read-modify-write transaction (idb-keyval `update`), so a tab closed mid-import leaves at
 * most an unlisted file, never a listed entry without data. Deleting runs the other way: index first,
 * file after. `list` drops records whose file is missing and clears files no record names (after a grace
 * period, so another tab's import in progress is left alone). `replace` writes a new version of an entry's
 * file (the playground appends preference pairs so) in one put, which IndexedDB applies whole or not at
 * all, then its record: a failed write leaves the old file and record as they were.
 * Before a write the quota is checked (storage-quota.ts); a QuotaExceededError from the write itself
 * becomes the same StorageFullError, and the half-written file is removed. Nothing saved before is touched.
 */
import { createStore, del, get, keys, set, type UseStore, update } from 'idb-keyval';
import type { DatasetFormat } from '../../train/data/formats';
import type { PlainTextMode } from '../../train/data/plain-text';
import type { SchemaChoice, SchemaOverride } from '../../train/data/schema';
import type { TokenLengthStats } from '../../train/data/summary';
import {
  ensureSpace,
  isQuotaExceeded,
  persistOnce,
  type StorageAccess,
  StorageFullError,
  spaceLeft,
} from './storage-quota';

/** How the file is read: the person's choices, kept so a reload reads it the same way. */
export interface DatasetReadSettings {
  /** The person's schema and column mapping; absent: detected from the columns. */
  schema?: SchemaOverride;
  skipBadRows: boolean;
  textMode?: PlainTextMode;
}

export interface DatasetStats {
  /** Rows read, good and bad. */
  rows: number;
  badRows: number;
  examples: number;
  /** Token lengths, as measured with `tokenizer`'s tokenizer (absent for datasets never tokenized). */
  tokens?: TokenLengthStats & { tokenizer: string };
}

export interface DatasetEntry {
  id: string;
  /** What the person calls it; starts as the file name. */
  name: string;
  fileName: string;
  /** Bytes of the raw file. */
  size: number;
  addedAt: number;
  format: DatasetFormat;
  columns: string[];
  schema: SchemaChoice;
  schemaDetected: boolean;
  settings: DatasetReadSettings;
  stats: DatasetStats;
}

export type NewDatasetEntry = Omit<DatasetEntry, 'id' | 'addedAt' | 'size'>;

/** What can change after import: the name, and how the file is read with what it then measured. */
export type DatasetEntryPatch = Partial<Omit<DatasetEntry, 'id' | 'addedAt' | 'size' | 'fileName'>>;

export class DatasetNotFoundError extends Error {
  override readonly name = 'DatasetNotFoundError';
  constructor(readonly id: string) {
    super(
      `No dataset with id ${id} is in the library; it may have been deleted in another tab. Reload the list.`,
    );
  }
}

export class DatasetNameError extends Error {
  override readonly name = 'DatasetNameError';
}

interface StoredFile {
  blob: Blob;
  writtenAt: number;
}

export interface DatasetLibraryDeps {
  store: UseStore;
  storage: StorageAccess;
  newId: () => string;
  now: () => number;
  /** How long an unlisted file is left alone, in case another tab is importing it (default 10 min). */
  orphanGraceMs?: number;
}

export interface DatasetLibrary {
  /** The entries whose file is present, in import order. */
  list(): Promise<DatasetEntry[]>;
  add(file: Blob, entry: NewDatasetEntry): Promise<DatasetEntry>;
  /** The raw file; a DatasetNotFoundError when it is gone. */
  file(id: string): Promise<Blob>;
  rename(id: string, name: string): Promise<DatasetEntry>;
  update(id: string, patch: DatasetEntryPatch): Promise<DatasetEntry>;
  /** A new version of the entry's file, with what it now measures; on any failure the old one stays. */
  replace(id: string, file: Blob, patch: DatasetEntryPatch): Promise<DatasetEntry>;
  remove(id: string): Promise<void>;
  active(): Promise<string | null>;
  setActive(id: string | null): Promise<void>;
  /** Whether the browser granted persistent storage (asked once, on the first import). */
  persisted(): Promise<boolean>;
}

const INDEX = 'index';
const ACTIVE = 'active';
const fileKey = (id: string) => `file:${id}`;

export function datasetLibrary(deps: DatasetLibraryDeps): DatasetLibrary {
  const { store, storage } = deps;
  const grace = deps.orphanGraceMs ?? 10 * 60_000;
  const persist = persistOnce(storage);
  const readIndex = async () => ((await get<DatasetEntry[]>(INDEX, store)) ?? []).filter(isEntry);

  const modify = async (id: string, change: (entry: DatasetEntry) => DatasetEntry) => {
    let changed: DatasetEntry | undefined;
    await update<DatasetEntry[]>(
      INDEX,
      (entries = []) =>
        entries.map((entry) => {
          if (entry.id !== id) return entry;
          changed = change(entry);
          return changed;
        }),
      store,
    );
    if (!changed) throw new DatasetNotFoundError(id);
    return changed;
  };

  return {
    async list() {
      const [entries, stored] = await Promise.all([readIndex(), keys<string>(store)]);
      const present = new Set(stored.filter((k) => typeof k === 'string' && k.startsWith('file:')));
      const missing = entries.filter((e) => !present.has(fileKey(e.id)));
      if (missing.length) {
        const gone = new Set(missing.map((e) => e.id));
        await update<DatasetEntry[]>(INDEX, (all = []) => all.filter((e) => !gone.has(e.id)), store);
      }
      const listed = new Set(entries.map((e) => fileKey(e.id)));
      for (const key of present) {
        if (listed.has(key)) continue;
        const orphan = await get<StoredFile>(key, store);
        if (!orphan || deps.now() - orphan.writtenAt > grace) await del(key, store);
      }
      return entries.filter((e) => present.has(fileKey(e.id)));
    },

    async add(file, entry) {
      const name = entry.name.trim() || entry.fileName;
      const what = `"${name}"`;
      // The record and index are small; the file is what has to fit.
      await ensureSpace(storage, what, file.size);
      void persist();
      const id = deps.newId();
      const record: DatasetEntry = { ...entry, name, id, addedAt: deps.now(), size: file.size };
      try {
        await set(fileKey(id), { blob: file, writtenAt: deps.now() } satisfies StoredFile, store);
        await update<DatasetEntry[]>(INDEX, (entries = []) => [...entries, record], store);
      } catch (error) {
        await del(fileKey(id), store).catch(() => undefined);
        if (isQuotaExceeded(error))
          throw new StorageFullError(what, file.size, await spaceLeftOrNaN(storage));
        throw error;
      }
      return record;
    },

    async file(id) {
      const stored = await get<StoredFile>(fileKey(id), store);
      if (!stored?.blob) throw new DatasetNotFoundError(id);
      return stored.blob;
    },

    rename(id, name) {
      const trimmed = name.trim();
      if (!trimmed)
        return Promise.reject(new DatasetNameError('A dataset needs a name: type at least one character.'));
      return modify(id, (entry) => ({ ...entry, name: trimmed }));
    },

    update(id, patch) {
      return modify(id, (entry) => ({ ...entry, ...patch, id: entry.id }));
    },

    async replace(id, file, patch) {
      const entry = (await readIndex()).find((e) => e.id === id);
      if (!entry) throw new DatasetNotFoundError(id);
      const what = `"${entry.name}"`;
      // The put holds the new version beside the old until it commits: the whole file has to fit.
      await ensureSpace(storage, what, file.size);
      try {
        await set(fileKey(id), { blob: file, writtenAt: deps.now() } satisfies StoredFile, store);
      } catch (error) {
        if (isQuotaExceeded(error))
          throw new StorageFullError(what, file.size, await spaceLeftOrNaN(storage));
        throw error;
      }
      return modify(id, (e) => ({ ...e, ...patch, id: e.id, size: file.size }));
    },

    async remove(id) {
      await update<DatasetEntry[]>(INDEX, (entries = []) => entries.filter((e) => e.id !== id), store);
      await del(fileKey(id), store);
      await update<string | null>(ACTIVE, (active) => (active === id ? null : (active ?? null)), store);
    },

    async active() {
      return (await get<string | null>(ACTIVE, store)) ?? null;
    },

    async setActive(id) {
      await set(ACTIVE, id, store);
    },

    persisted: persist,
  };
}

const spaceLeftOrNaN = (storage: StorageAccess) => spaceLeft(storage).catch(() => Number.NaN);

/** A record written by this version: anything else (a half-migrated or foreign value) is left out. */
function isEntry(value: unknown): value is DatasetEntry {
  if (!value || typeof value !== 'object') return false;
  const e = value as Partial<DatasetEntry>;
  return (
    typeof e.id === 'string' && typeof e.name === 'string' && typeof e.fileName === 'string' && !!e.schema
  );
}

/** The app's library: its own IndexedDB database, the page's StorageManager. */
export function browserDatasetLibrary(storage: StorageAccess): DatasetLibrary {
  return datasetLibrary({
    store: createStore('whetstone-datasets', 'datasets'),
    storage,
    newId: () => crypto.randomUUID(),
    now: () => Date.now(),
  });
}
