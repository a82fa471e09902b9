/**
 * Loads a Hugging Face checkpoint: config.json, then its weights (stored-weights.ts: safetensors, or
 * pytorch_model.bin read without running its pickle). Every header is read and checked against the config (names, shapes,
 * sizes, truncation) before a single weight is converted, so a bad model fails fast and by name.
 */
import { checkWeights, type StoredTensor } from '../models/check-weights';
import { type DecoderConfig, parseModelConfig, withStoredPrecision } from '../models/config';
import { ModelFilesError } from '../models/errors';
import { type ModelFiles, readJson } from './model-files';
import { openStoredWeights, type StoredWeight, storedInSixteenBits } from './stored-weights';

export interface Checkpoint {
  config: DecoderConfig;
  /** Canonical weight name → where it is stored. */
  weights: Map<string, StoredTensor>;
  /** Reads one weight as f32 (16-bit weights widened exactly). */
  read(name: string): Promise<Float32Array>;
}

export async function openCheckpoint(files: ModelFiles): Promise<Checkpoint> {
  if (!files.has('config.json')) throw new ModelFilesError(`${files.source} has no config.json.`);
  const parsed = parseModelConfig(await readJson(files, 'config.json'));
  const stored = await openStoredWeights(files);
  const weights = checkWeights(parsed, stored.tensors) as Map<string, StoredWeight>;
  // The files, not config.json's torch_dtype, say how the weights are stored.
  const config = withStoredPrecision(parsed, storedInSixteenBits(weights.values()));
  return {
    config,
    weights,
    async read(name) {
      const weight = weights.get(name);
      if (!weight) throw new ModelFilesError(`${files.source}: no weight ${name}.`);
      return stored.read(weight);
    },
  };
}
