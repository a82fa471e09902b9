/**
 * The model cache in the browser, through the Cache Storage API (`caches.open('whetstone-models')`),
 * which works in pages and workers and keeps large bodies on disk rather than in memory.
 *
 * Contract as in model-cache.ts. Atomicity comes from Cache Storage itself: `cache.put` stores an
 * entry only once its streamed body has ended, so an aborted stream leaves nothing behind.
 * Node has no Cache Storage, so this file is not covered by the cpu tests; it is kept trivially thin
 * for that reason, and everything above it (hub.ts) is tested against node-model-cache.ts.
 */
import { type CacheEntryWriter, CacheSizeMismatchError, checkCacheKey, type ModelCache } from './model-cache';

export const browserCacheName = 'whetstone-models';
// Cache Storage keys must be http(s) URLs; this origin is never fetched, it only names entries.
const keyOrigin = 'https://whetstone.invalid/';
const sizeHeader = 'X-Whetstone-Bytes';

const urlOf = (key: string) => keyOrigin + checkCacheKey(key).map(encodeURIComponent).join('/');
const keyOf = (url: string) => new URL(url).pathname.slice(1).split('/').map(decodeURIComponent).join('/');

export async function browserModelCache(name = browserCacheName): Promise<ModelCache> {
  const cache = await caches.open(name);

  async function size(key: string): Promise<number | undefined> {
    const response = await cache.match(urlOf(key));
    if (!response) return undefined;
    await response.body?.cancel();
    return Number(response.headers.get(sizeHeader));
  }

  async function put(key: string, expectedBytes: number): Promise<CacheEntryWriter> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const headers = { 'Content-Type': 'application/octet-stream', [sizeHeader]: String(expectedBytes) };
    const stored = cache.put(urlOf(key), new Response(readable, { headers }));
    stored.catch(() => {}); // awaited in commit; a discard rejects it on purpose
    let bytesWritten = 0;
    const discard = async () => {
      await writer.abort(new Error('discarded')).catch(() => {});
    };
    return {
      get bytesWritten() {
        return bytesWritten;
      },
      async write(chunk) {
        await writer.write(chunk);
        bytesWritten += chunk.byteLength;
      },
      async commit() {
        if (bytesWritten !== expectedBytes) {
          await discard();
          throw new CacheSizeMismatchError(key, expectedBytes, bytesWritten);
        }
        await writer.close();
        await stored;
      },
      discard,
    };
  }

  return {
    location: `Cache Storage "${name}"`,
    size,
    has: async (key) => (await size(key)) !== undefined,
    async get(key, start = 0, end) {
      const response = await cache.match(urlOf(key));
      if (!response) throw new Error(`${name} has no ${key}.`);
      const blob = await response.blob();
      return new Uint8Array(await blob.slice(start, end ?? blob.size).arrayBuffer());
    },
    put,
    async list(prefix) {
      const keys = (await cache.keys()).map((request) => keyOf(request.url));
      return keys.filter((key) => key.startsWith(prefix)).sort();
    },
    async delete(key) {
      await cache.delete(urlOf(key));
    },
  };
}
