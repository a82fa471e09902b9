/**
 * A model the person loaded (a hub download or a local folder) as a StudioModel: its files read into
 * bytes for the worker, after checking that it has what training needs (config.json the engine reads,
 * a tokenizer, safetensors weights). Bad folders are a LoadedModelError that says what is missing.
 * An encoder (BERT, DistilBERT, RoBERTa) is a classification model: its runs train a classifier head.
 */

import type { ModelFiles } from '../../train/io/model-files';
import { encoderArchitectureOf, parseEncoderConfig } from '../../train/models/bert-config';
import { parseModelConfig } from '../../train/models/config';
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
  'model.safetensors',
  'model.safetensors.index.json',
];

async function shardNames(files: ModelFiles): Promise<string[]> {
  if (!files.has('model.safetensors.index.json')) return [];
  const index = JSON.parse(new TextDecoder().decode(await files.read('model.safetensors.index.json'))) as {
    weight_map?: Record<string, string>;
  };
  return [...new Set(Object.values(index.weight_map ?? {}))];
}

/** Reads the files a model needs into memory and describes it for the picker. */
export async function loadedModel(files: ModelFiles, id: string, label: string): Promise<StudioModel> {
  for (const name of ['config.json', 'tokenizer.json'])
    if (!files.has(name))
      throw new LoadedModelError(
        `${files.source} has no ${name}; a model folder needs config.json, tokenizer.json and safetensors weights.`,
      );
  if (!files.has('model.safetensors') && !files.has('model.safetensors.index.json'))
    throw new LoadedModelError(
      `${files.source} has no model.safetensors (or model.safetensors.index.json); Whetstone reads safetensors weights only.`,
    );
  const bytes: Record<string, Uint8Array> = {};
  for (const name of [...knownFiles, ...(await shardNames(files))])
    if (files.has(name)) bytes[name] = await files.read(name);
  let config: { architecture: string; L: number; C: number; V: number; P: number };
  let encoder = false;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes['config.json']));
    encoder = encoderArchitectureOf(json) !== undefined;
    config = encoder ? parseEncoderConfig(json) : parseModelConfig(json);
  } catch (error) {
    throw new LoadedModelError(
      `${files.source}/config.json: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return {
    id,
    label,
    modelName: id,
    description: `${config.architecture}: ${config.L} layers, width ${config.C}, vocabulary ${config.V}${encoder ? ' (an encoder: its runs train a classifier)' : ''}. Loaded from ${files.source}.`,
    maxSeqLen: config.P,
    ...(encoder ? { task: 'classification' as const } : {}),
    files: () => bytes,
  };
}
