/**
 * The model cache as a folder, for the CLI and Node tests. Key `repo@revision/file` is the path
 * `<root>/repo@revision/file`; the root is the `root` option, else $WHETSTONE_CACHE, else
 * ~/.cache/whetstone/hub.
 *
 * Writes are atomic: bytes go to `<root>/.partial/<random>`, are fsynced, then renamed onto the key,
 * so a crash or a dropped download never leaves a short file under a real key. Temporary files live
 * in their own folder so that `list` never sees them, whatever a repo names its files.
 */
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type CacheEntryWriter, CacheSizeMismatchError, checkCacheKey, type ModelCache } from './model-cache';

export interface NodeModelCacheOptions {
  root?: string;
}

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.WHETSTONE_CACHE || join(homedir(), '.cache', 'whetstone', 'hub');
}

const partialFolder = '.partial';

export function nodeModelCache(options: NodeModelCacheOptions = {}): ModelCache {
  const root = options.root ?? defaultCacheRoot();
  const pathOf = (key: string) => join(root, ...checkCacheKey(key));

  async function size(key: string): Promise<number | undefined> {
    try {
      const info = await stat(pathOf(key));
      return info.isFile() ? info.size : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async function put(key: string, expectedBytes: number): Promise<CacheEntryWriter> {
    const target = pathOf(key);
    const temporary = join(root, partialFolder, randomUUID());
    await mkdir(dirname(temporary), { recursive: true });
    const handle = await open(temporary, 'w');
    let bytesWritten = 0;
    let isOpen = true;
    const closeAndRemove = async () => {
      if (isOpen) {
        isOpen = false;
        await handle.close().catch(() => {});
      }
      await rm(temporary, { force: true });
    };
    return {
      get bytesWritten() {
        return bytesWritten;
      },
      async write(chunk) {
        // Partial writes are possible on some file systems; loop until the chunk is all down.
        let offset = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten: n } = await handle.write(chunk, offset, chunk.byteLength - offset);
          offset += n;
        }
        bytesWritten += chunk.byteLength;
      },
      async commit() {
        if (bytesWritten !== expectedBytes) {
          await closeAndRemove();
          throw new CacheSizeMismatchError(key, expectedBytes, bytesWritten);
        }
        await handle.sync();
        isOpen = false;
        await handle.close();
        await mkdir(dirname(target), { recursive: true });
        await rename(temporary, target);
        await syncFolder(dirname(target));
      },
      discard: closeAndRemove,
    };
  }

  return {
    location: root,
    size,
    has: async (key) => (await size(key)) !== undefined,
    async get(key, start = 0, end) {
      const handle = await open(pathOf(key), 'r');
      try {
        const stop = end ?? (await handle.stat()).size;
        const out = new Uint8Array(Math.max(0, stop - start));
        const { bytesRead } = await handle.read(out, 0, out.length, start);
        return out.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    put,
    async list(prefix) {
      // Walk only the deepest folder the prefix names; the rest of the cache is irrelevant.
      const folderPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const keys: string[] = [];
      await walk(root, folderPart, keys);
      return keys.filter((key) => key.startsWith(prefix)).sort();
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

async function walk(root: string, relative: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(root, relative), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const key = `${relative}${entry.name}`;
    if (entry.isDirectory()) {
      if (key !== partialFolder) await walk(root, `${key}/`, out);
    } else if (entry.isFile()) out.push(key);
  }
}

/** Makes a rename durable. Some platforms (Windows) cannot open a folder for sync; there it is skipped. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability of the folder entry is best effort; the file's own bytes were already fsynced.
  }
}
