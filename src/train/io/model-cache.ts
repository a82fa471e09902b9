/**
 * Where downloaded model files are kept, behind one small interface: a folder in Node
 * (node-model-cache.ts), Cache Storage in the browser (browser-model-cache.ts).
 *
 * Contract: an entry is keyed `repo@revision/file` (see cacheKey). An entry exists only once it is
 * complete: `put` opens a temporary entry that no reader can see, and `commit` publishes it only when
 * exactly the announced number of bytes was written; `discard` (or any failed commit) leaves nothing.
 */

export interface CacheEntryWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Publishes the entry; throws CacheSizeMismatchError (and discards) unless all expected bytes came. */
  commit(): Promise<void>;
  /** Drops the temporary entry. Safe to call after a failed commit or twice. */
  discard(): Promise<void>;
  readonly bytesWritten: number;
}

export interface ModelCache {
  /** Where the cache lives, for messages: a folder, or the Cache Storage bucket name. */
  readonly location: string;
  has(key: string): Promise<boolean>;
  /** Byte size of a committed entry, or undefined when there is none. */
  size(key: string): Promise<number | undefined>;
  /** Bytes [start, end) of a committed entry, or all of it. */
  get(key: string, start?: number, end?: number): Promise<Uint8Array>;
  /** Opens a temporary entry that becomes `key` on commit, once `expectedBytes` were written. */
  put(key: string, expectedBytes: number): Promise<CacheEntryWriter>;
  /** Committed keys that start with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

export class CacheSizeMismatchError extends Error {
  override name = 'CacheSizeMismatchError';
  constructor(
    readonly key: string,
    readonly expectedBytes: number,
    readonly receivedBytes: number,
  ) {
    super(`${key}: received ${receivedBytes} bytes but expected ${expectedBytes}; the entry was not kept.`);
  }
}

/**
 * `repo@revision/file`. The revision is URI-encoded because branch names such as `refs/pr/1` hold
 * slashes, which would otherwise make `repo@revision/file` ambiguous.
 */
export function cacheKey(repo: string, revision: string, file: string): string {
  return `${repo}@${encodeURIComponent(revision)}/${file}`;
}

/** Throws unless every `/`-separated part of a key is a plain name, so a key cannot escape the cache. */
export function checkCacheKey(key: string): string[] {
  const parts = key.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\\')))
    throw new TypeError(`Bad model cache key "${key}": expected repo@revision/file with plain names.`);
  return parts;
}
