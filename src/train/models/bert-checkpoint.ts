/**
 * Opens an encoder checkpoint (config.json + its weights, stored-weights.ts: safetensors or
 * pytorch_model.bin) for classification.
 * Every header is read and checked against the config before any weight is converted: missing base
 * weights, wrong shapes and leftovers are reported together, by name. A checkpoint without the
 * classification head (BertModel, a pre-training checkpoint, or a head for another class count) gets
 * one initialised as transformers' _init_weights does for nn.Linear: weight ~ N(0, initializer_range²),
 * bias 0 (seeded here, so runs repeat). Those names are listed in `initialised`.
 */

import { type ModelFiles, readJson } from '../io/model-files';
import { openStoredWeights, type StoredWeight } from '../io/stored-weights';
import { seededRandom } from '../seeded-random';
import { type EncoderConfig, modelNameOfSource, parseEncoderConfig } from './bert-config';
import { canonicalEncoderWeightName, expectedEncoderWeights, headWeights } from './bert-weights';
import { ModelFilesError } from './errors';

export interface EncoderCheckpoint {
  config: EncoderConfig;
  /** Every weight the model uses, by canonical name, with its shape. */
  shapes: Map<string, number[]>;
  /** Head weights the checkpoint lacked and that were initialised here. */
  initialised: string[];
  read(name: string): Promise<Float32Array>;
}

export interface OpenEncoderOptions {
  /** Classes of the task; a stored head of another size is replaced by a fresh one. */
  numLabels?: number;
  /** Seeds the initialisation of a missing head. */
  seed?: number;
}

/** N(0, std²) by Box–Muller from a seeded uniform source. */
function normals(count: number, std: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - random();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    const angle = 2 * Math.PI * random();
    out[i] = r * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = r * Math.sin(angle);
  }
  return out;
}

export async function openEncoderCheckpoint(
  files: ModelFiles,
  options: OpenEncoderOptions = {},
): Promise<EncoderCheckpoint> {
  if (!files.has('config.json')) throw new ModelFilesError(`${files.source} has no config.json.`);
  // A config.json without model_type is read as transformers reads it: by the repo id or folder name.
  const name = modelNameOfSource(files.source);
  const config = parseEncoderConfig(await readJson(files, 'config.json'), options.numLabels, name);
  const expected = expectedEncoderWeights(config);
  const head = headWeights(config);
  const found = new Map<string, StoredWeight>();
  const unexpected: string[] = [];
  const problems: string[] = [];
  const misshapen = new Set<string>();
  const stored = await openStoredWeights(files);
  for (const tensor of stored.tensors) {
    const name = canonicalEncoderWeightName(config, tensor.name);
    if (name === null) continue;
    const want = expected.get(name);
    if (!want) {
      unexpected.push(tensor.name);
      continue;
    }
    const sameShape = want.length === tensor.shape.length && want.every((d, i) => d === tensor.shape[i]);
    // A head for another number of classes is replaced, as from_pretrained(num_labels=...,
    // ignore_mismatched_sizes=True) does; any other mismatch is an error.
    if (!sameShape && head.has(name)) continue;
    if (!sameShape) {
      misshapen.add(name);
      problems.push(
        `${name} in ${tensor.file} is [${tensor.shape.join(', ')}], but config.json implies [${want.join(', ')}]`,
      );
      continue;
    }
    found.set(name, tensor);
  }
  const missing = [...expected.keys()].filter(
    (name) => !found.has(name) && !head.has(name) && !misshapen.has(name),
  );
  if (missing.length > 0) problems.push(`missing ${missing.length} tensor(s): ${list(missing)}`);
  if (unexpected.length > 0) problems.push(`tensors config.json does not account for: ${list(unexpected)}`);
  if (problems.length > 0) {
    throw new ModelFilesError(
      `The ${config.architecture} checkpoint in ${files.source} does not match its config.json:\n- ${problems.join('\n- ')}`,
    );
  }
  // The head is replaced as a whole when any part of it is missing, so it never mixes two inits.
  const headComplete = [...head.keys()].every((name) => found.has(name));
  const initialised = headComplete ? [] : [...head.keys()];
  const fresh = new Map<string, Float32Array>();
  initialised.forEach((name, i) => {
    found.delete(name);
    const count = (head.get(name) as number[]).reduce((a, b) => a * b, 1);
    fresh.set(
      name,
      name.endsWith('.bias')
        ? new Float32Array(count)
        : normals(count, config.initializerRange, (options.seed ?? 0) * 31 + i),
    );
  });
  return {
    config,
    shapes: expected,
    initialised,
    async read(name) {
      const made = fresh.get(name);
      if (made) return made;
      const weight = found.get(name);
      if (!weight) throw new ModelFilesError(`${files.source}: no weight ${name}.`);
      return stored.read(weight);
    },
  };
}

function list(names: string[]): string {
  return names.length <= 5
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
