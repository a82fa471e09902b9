/**
 * A model the person loaded (a hub download or a local folder) as a StudioModel: its files read into
 * bytes for the worker, after checking that it has what training needs (config.json the engine reads,
 * a tokenizer, weights as safetensors or pytorch_model.bin). Bad folders are a LoadedModelError that says what is missing.
 * An encoder (BERT, DistilBERT, RoBERTa) is a classification model: its runs train a classifier head.
 */

import type { ModelFiles } from '../../train/io/model-files';
import {
  openStoredWeights,
  storedInSixteenBits,
  weightFileNames,
  weightFiles,
} from '../../train/io/stored-weights';
import {
  encoderArchitectureOf,
  modelTypeFromName,
  parseEncoderConfig,
  untypedEncoderFields,
} from '../../train/models/bert-config';
import { parseModelConfig } from '../../train/models/config';
import { longestRow } from '../../train/models/row-limit';
import type { StudioModel } from './model-catalogue';

export class LoadedModelError extends Error {
  override readonly name = 'LoadedModelError';
}

const knownFiles = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'chat_template.jinja',
  'special_tokens_map.json',
  'vocab.txt',
  ...weightFileNames,
];

/** Whether every weight tensor is stored F16 or BF16; undefined when the headers cannot be read here. */
async function storedInHalf(files: ModelFiles): Promise<boolean | undefined> {
  try {
    return storedInSixteenBits((await openStoredWeights(files)).tensors);
  } catch {
    // A damaged weight file is named when the run opens it; the plan then goes by config.json.
    return undefined;
  }
}

/** Reads the files a model needs into memory and describes it for the picker. */
export async function loadedModel(files: ModelFiles, id: string, label: string): Promise<StudioModel> {
  if (!files.has('config.json'))
    throw new LoadedModelError(
      `${files.source} has no config.json; a model folder needs config.json, tokenizer.json (or an encoder's vocab.txt) and its weights (model.safetensors or pytorch_model.bin).`,
    );
  if (!files.has('tokenizer.json') && !files.has('vocab.txt'))
    throw new LoadedModelError(
      `${files.source} has no tokenizer.json (nor vocab.txt); a model folder needs config.json, tokenizer.json and its weights (model.safetensors or pytorch_model.bin).`,
    );
  let weights: string[];
  try {
    weights = await weightFiles(files);
  } catch (error) {
    throw new LoadedModelError(error instanceof Error ? error.message : String(error));
  }
  const bytes: Record<string, Uint8Array> = {};
  for (const name of [...knownFiles, ...weights]) if (files.has(name)) bytes[name] = await files.read(name);
  let config: { architecture: string; L: number; C: number; V: number; P: number };
  // Tokens per row: the positions, or a decoder's sliding window where that is shorter (row-limit.ts).
  let maxSeqLen = 0;
  let encoder = false;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes['config.json']));
    // transformers reads a config.json without model_type by the model's name; the worker only sees
    // the bytes, so the inferred model_type is written into them.
    const name = id.replace(/^local\//, '');
    // An untyped BERT-like config goes to the encoder parser, whose error says what to add.
    encoder = encoderArchitectureOf(json, name) !== undefined || untypedEncoderFields(json);
    if (encoder) {
      config = parseEncoderConfig(json, undefined, name);
      maxSeqLen = config.P;
    } else {
      const decoder = parseModelConfig(json);
      config = decoder;
      maxSeqLen = longestRow(decoder);
    }
    if (encoder && typeof json === 'object' && json && !('model_type' in json) && !('architectures' in json))
      bytes['config.json'] = new TextEncoder().encode(
        JSON.stringify({ ...json, model_type: modelTypeFromName(name) }, null, 2),
      );
  } catch (error) {
    throw new LoadedModelError(
      `${files.source}/config.json: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!encoder && !files.has('tokenizer.json'))
    throw new LoadedModelError(
      `${files.source} has vocab.txt but no tokenizer.json; only encoders (BERT, DistilBERT) are read from vocab.txt. Add the model's tokenizer.json.`,
    );
  // How the weights are stored, from the files' headers (the worker's loader goes by them too).
  const halfWeights = encoder ? undefined : await storedInHalf(files);
  return {
    id,
    label,
    modelName: id,
    description: `${config.architecture}: ${config.L} layers, width ${config.C}, vocabulary ${config.V}${encoder ? ' (an encoder: its runs train a classifier)' : ''}. Loaded from ${files.source}.`,
    maxSeqLen,
    ...(encoder ? { task: 'classification' as const } : {}),
    ...(halfWeights === undefined ? {} : { halfWeights }),
    files: () => bytes,
  };
}
