/**
 * Where a model's files come from, behind one small interface: a folder in Node, files picked or
 * dropped in the browser, or the hub cache. Loading code reads through it and never touches fs or DOM.
 */

export interface ModelFiles {
  /** A short description for error messages, e.g. the folder path. */
  readonly source: string;
  has(name: string): boolean;
  size(name: string): number;
  /** Bytes [start, end) of a file, or the whole file. */
  read(name: string, start?: number, end?: number): Promise<Uint8Array>;
}

export async function readText(files: ModelFiles, name: string): Promise<string> {
  return new TextDecoder().decode(await files.read(name));
}

export async function readJson(files: ModelFiles, name: string): Promise<unknown> {
  const text = await readText(files, name);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`${files.source}/${name} is not valid JSON: ${String(error)}`);
  }
}

/** Files given by the browser (an <input type=file webkitdirectory> pick or a drop), by base name. */
export function filesFromBrowser(list: Iterable<File>, source = 'the dropped folder'): ModelFiles {
  const byName = new Map<string, File>();
  for (const file of list) byName.set(file.name, file);
  return {
    source,
    has: (name) => byName.has(name),
    size: (name) => byName.get(name)?.size ?? 0,
    async read(name, start, end) {
      const file = byName.get(name);
      if (!file) throw new Error(`${source} has no ${name}.`);
      return new Uint8Array(await file.slice(start ?? 0, end ?? file.size).arrayBuffer());
    },
  };
}

/** Files held in memory (tests, and fixtures written on the fly). */
export function filesFromMemory(entries: Record<string, Uint8Array | string>, source = 'memory'): ModelFiles {
  const byName = new Map(
    Object.entries(entries).map(([name, value]) => [
      name,
      typeof value === 'string' ? new TextEncoder().encode(value) : value,
    ]),
  );
  return {
    source,
    has: (name) => byName.has(name),
    size: (name) => byName.get(name)?.byteLength ?? 0,
    async read(name, start, end) {
      const bytes = byName.get(name);
      if (!bytes) throw new Error(`${source} has no ${name}.`);
      return bytes.subarray(start ?? 0, end ?? bytes.byteLength);
    },
  };
}
