/**
 * Loads a Hugging Face checkpoint: config.json, then model.safetensors or the shards listed in
 * model.safetensors.index.json. Every header is read and checked against the config (names, shapes,
 * sizes, truncation) before a single weight is converted, so a bad model fails fast and by name.
 */
import { checkWeights, type StoredTensor } from '../models/check-weights';
import { type DecoderConfig, parseModelConfig } from '../models/config';
import { ModelFilesError } from '../models/errors';
import { type ModelFiles, readJson } from './model-files';
import { headerByteLength, parseSafetensorsHeader, type TensorEntry, toFloat32 } from './safetensors';

export interface Checkpoint {
  config: DecoderConfig;
  /** Canonical weight name → where it is stored. */
  weights: Map<string, StoredTensor & { entry: TensorEntry }>;
  /** Reads one weight as f32. */
  read(name: string): Promise<Float32Array>;
}

async function shardNames(files: ModelFiles): Promise<string[]> {
  if (files.has('model.safetensors')) return ['model.safetensors'];
  if (files.has('model.safetensors.index.json')) {
    const index = (await readJson(files, 'model.safetensors.index.json')) as {
      weight_map?: Record<string, string>;
    };
    const shards = [...new Set(Object.values(index.weight_map ?? {}))];
    const missing = shards.filter((shard) => !files.has(shard));
    if (missing.length > 0)
      throw new ModelFilesError(
        `${files.source}: shards listed in the index are missing: ${missing.join(', ')}.`,
      );
    return shards;
  }
  throw new ModelFilesError(
    `${files.source} has no model.safetensors (nor model.safetensors.index.json). Whetstone reads safetensors weights only.`,
  );
}

export async function openCheckpoint(files: ModelFiles): Promise<Checkpoint> {
  if (!files.has('config.json')) throw new ModelFilesError(`${files.source} has no config.json.`);
  const config = parseModelConfig(await readJson(files, 'config.json'));
  const stored: (StoredTensor & { entry: TensorEntry })[] = [];
  for (const shard of await shardNames(files)) {
    const size = files.size(shard);
    const prefix = await files.read(shard, 0, Math.min(8, size));
    const headerEnd = prefix.byteLength === 8 ? headerByteLength(prefix) : 8;
    const header = await files.read(shard, 0, Math.min(headerEnd, size));
    for (const entry of parseSafetensorsHeader(shard, header, size)) {
      stored.push({ name: entry.name, shape: entry.shape, file: shard, entry });
    }
  }
  const weights = checkWeights(config, stored) as Map<string, StoredTensor & { entry: TensorEntry }>;
  return {
    config,
    weights,
    async read(name) {
      const weight = weights.get(name);
      if (!weight) throw new ModelFilesError(`${files.source}: no weight ${name}.`);
      const bytes = await files.read(weight.file, weight.entry.begin, weight.entry.end);
      return toFloat32(weight.entry, bytes, weight.file);
    },
  };
}
