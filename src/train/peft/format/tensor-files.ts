/**
 * The plumbing both adapter formats share: named F32 tensors to and from safetensors bytes (keys sorted,
 * metadata {"format": "pt"} as PEFT's safe_save_file call writes it, which also lets PyTorch's
 * safetensors loader take the file), the files of an adapter folder as bytes or text, and the comparison
 * of a file's keys and shapes with the expected ones.
 */
import { parseSafetensorsHeader, toFloat32, writeSafetensors } from '../../io/safetensors';
import { AdapterFilesError, AdapterKeysError, type KeyProblem } from './errors';

export interface AdapterTensor {
  shape: number[];
  data: Float32Array;
}

export type AdapterTensors = Map<string, AdapterTensor>;

/** An adapter folder: file name to bytes, or to text for the JSON files. */
export type AdapterFolder = Record<string, Uint8Array | string>;

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function tensorsToSafetensors(file: string, tensors: AdapterTensors): Uint8Array {
  const named = [...tensors.keys()].sort().map((name) => {
    const { shape, data } = tensors.get(name) as AdapterTensor;
    if (!shape.every((d) => Number.isInteger(d) && d > 0) || data.length !== count(shape)) {
      throw new AdapterFilesError(
        `${file}: tensor ${name} has ${data.length} values for shape [${shape.join(', ')}].`,
      );
    }
    return { name, shape, data };
  });
  // safetensors (the Python writer) orders tensors by dtype, then name; all are F32 here.
  return writeSafetensors(named, { format: 'pt' });
}

export function safetensorsToTensors(file: string, bytes: Uint8Array): AdapterTensors {
  const tensors: AdapterTensors = new Map();
  for (const entry of parseSafetensorsHeader(file, bytes)) {
    const data = toFloat32(entry, bytes.subarray(entry.begin, entry.end), file);
    tensors.set(entry.name, { shape: entry.shape, data });
  }
  return tensors;
}

export function fileBytes(files: AdapterFolder, name: string, hint = ''): Uint8Array {
  const file = files[name];
  if (file === undefined) throw new AdapterFilesError(`The adapter has no ${name}.${hint}`);
  return typeof file === 'string' ? new TextEncoder().encode(file) : file;
}

export function fileText(files: AdapterFolder, name: string, hint = ''): string {
  const file = files[name];
  if (file === undefined) throw new AdapterFilesError(`The adapter has no ${name}.${hint}`);
  return typeof file === 'string' ? file : new TextDecoder().decode(file);
}

const byKey = (m: ReadonlyMap<string, number[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Throws an AdapterKeysError listing every missing, unexpected and wrongly shaped key. */
export function compareTensorKeys(
  file: string,
  expected: ReadonlyMap<string, number[]>,
  actual: ReadonlyMap<string, number[]>,
): void {
  const missing: KeyProblem[] = [];
  const unexpected: KeyProblem[] = [];
  const wrongShape: KeyProblem[] = [];
  for (const [key, shape] of byKey(expected)) {
    const found = actual.get(key);
    if (!found) missing.push({ key, expected: shape });
    else if (!sameShape(found, shape)) wrongShape.push({ key, expected: shape, found });
  }
  for (const [key, found] of byKey(actual)) {
    if (!expected.has(key)) unexpected.push({ key, found });
  }
  if (missing.length || unexpected.length || wrongShape.length)
    throw new AdapterKeysError(file, missing, unexpected, wrongShape);
}

export function shapesOf(tensors: AdapterTensors): Map<string, number[]> {
  return new Map([...tensors].map(([key, t]) => [key, t.shape]));
}
