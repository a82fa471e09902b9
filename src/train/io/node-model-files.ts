/** A model folder on disk, for the CLI and Node tests. */
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFiles } from './model-files';

export function filesFromFolder(folder: string): ModelFiles {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`${folder} is not a folder.`);
  const path = (name: string) => join(folder, name);
  return {
    source: folder,
    has: (name) => existsSync(path(name)),
    size: (name) => statSync(path(name)).size,
    async read(name, start = 0, end) {
      const handle = await open(path(name), 'r');
      try {
        const stop = end ?? (await handle.stat()).size;
        const out = new Uint8Array(Math.max(0, stop - start));
        const { bytesRead } = await handle.read(out, 0, out.length, start);
        return out.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}
