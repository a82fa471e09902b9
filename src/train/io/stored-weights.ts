/**
 * A model folder's weight tensors, whichever way they are stored: model.safetensors, its shards
 * (model.safetensors.index.json), or, for repos that never got safetensors (most BERT-era checkpoints,
 * e.g. google/bert_uncased_L-*), pytorch_model.bin or its shards (pytorch_model.bin.index.json), read
 * by torch-weights.ts without running the pickle's code. Safetensors wins when both exist, as in
 * transformers. Only headers (or the pickled state dict) are read here; `read` fetches one tensor's
 * bytes and converts it to f32.
 */
import { ModelFilesError } from '../models/errors';
import { type ModelFiles, readJson } from './model-files';
import { headerByteLength, parseSafetensorsHeader, type TensorEntry, toFloat32 } from './safetensors';
import { openTorchWeights, type TorchWeightsFile } from './torch-weights';

export interface StoredWeight {
  /** The name as stored (before any renaming to canonical names). */
  name: string;
  shape: number[];
  file: string;
  /** As stored: F32, F16, BF16 (or another type `read` refuses by name). */
  dtype: string;
}

export interface StoredWeights {
  tensors: StoredWeight[];
  read(tensor: StoredWeight): Promise<Float32Array>;
}

/** Every tensor is stored in 16 bits (F16 or BF16), as most recent hub checkpoints are. */
export const storedInSixteenBits = (tensors: Iterable<{ dtype?: string }>): boolean =>
  [...tensors].every((t) => t.dtype === 'F16' || t.dtype === 'BF16');

/** The weight files a folder may have, in the order they are preferred. */
export const weightFileChoices = [
  { single: 'model.safetensors', index: 'model.safetensors.index.json' },
  { single: 'pytorch_model.bin', index: 'pytorch_model.bin.index.json' },
] as const;

/** Every weight file name a model folder may hold (indexes included). */
export const weightFileNames: readonly string[] = weightFileChoices.flatMap((c) => [c.single, c.index]);

/** The shard files a weights index (*.index.json, parsed) lists, each once. */
export function indexShards(index: unknown): string[] {
  const map = (index as { weight_map?: Record<string, string> }).weight_map ?? {};
  return [...new Set(Object.values(map))];
}

/** The files holding the weights, by the first choice the folder has: one file or an index's shards. */
export async function weightFiles(files: ModelFiles): Promise<string[]> {
  for (const choice of weightFileChoices) {
    if (files.has(choice.single)) return [choice.single];
    if (!files.has(choice.index)) continue;
    const shards = indexShards(await readJson(files, choice.index));
    const missing = shards.filter((shard) => !files.has(shard));
    if (missing.length > 0)
      throw new ModelFilesError(
        `${files.source}: shards listed in ${choice.index} are missing: ${missing.join(', ')}.`,
      );
    return shards;
  }
  throw new ModelFilesError(
    `${files.source} has no weights: none of model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json.`,
  );
}

async function safetensorsEntries(files: ModelFiles, shard: string): Promise<TensorEntry[]> {
  const size = files.size(shard);
  const prefix = await files.read(shard, 0, Math.min(8, size));
  const headerEnd = prefix.byteLength === 8 ? headerByteLength(prefix) : 8;
  const header = await files.read(shard, 0, Math.min(headerEnd, size));
  return parseSafetensorsHeader(shard, header, size);
}

export async function openStoredWeights(files: ModelFiles): Promise<StoredWeights> {
  const tensors: StoredWeight[] = [];
  const safetensors = new Map<StoredWeight, TensorEntry>();
  const pickled = new Map<string, TorchWeightsFile>();
  for (const file of await weightFiles(files)) {
    if (file.endsWith('.safetensors')) {
      for (const entry of await safetensorsEntries(files, file)) {
        const tensor = { name: entry.name, shape: entry.shape, file, dtype: entry.dtype };
        safetensors.set(tensor, entry);
        tensors.push(tensor);
      }
    } else {
      const torchFile = await openTorchWeights(files, file);
      pickled.set(file, torchFile);
      for (const t of torchFile.tensors) tensors.push({ name: t.name, shape: t.shape, file, dtype: t.dtype });
    }
  }
  return {
    tensors,
    async read(tensor) {
      const entry = safetensors.get(tensor);
      if (entry) return toFloat32(entry, await files.read(tensor.file, entry.begin, entry.end), tensor.file);
      const torchFile = pickled.get(tensor.file);
      if (!torchFile)
        throw new ModelFilesError(`${files.source}: no weight ${tensor.name} in ${tensor.file}.`);
      return torchFile.read(tensor.name);
    },
  };
}
