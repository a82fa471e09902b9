/**
 * The models the studio can train: the built-in offline model (a tiny Llama with seeded random weights,
 * made by the project's own fixture code, so the whole studio works with no network) and every model
 * loaded this session (downloaded from the hub or picked from a folder; models-slice.ts registers them).
 * Files are held as bytes and handed to the worker. The curated hub list is curated-models.ts.
 */
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { type DecoderConfig, parseModelConfig } from '../../train/models/config';

export interface StudioModel {
  id: string;
  label: string;
  /** base_model_name_or_path in saved adapters. */
  modelName: string;
  description: string;
  /** The longest row the model takes (its max_position_embeddings). */
  maxSeqLen: number;
  files(): Record<string, Uint8Array>;
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const tinyLlamaFiles = once(() =>
  Object.fromEntries(
    Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, content]) => [
      name,
      typeof content === 'string' ? new TextEncoder().encode(content) : content,
    ]),
  ),
);

const tinyLlamaConfig = once(() => {
  const json = tinyLlamaFiles()['config.json'];
  return JSON.parse(new TextDecoder().decode(json)) as { max_position_embeddings: number };
});

export const builtinTinyLlama: StudioModel = {
  id: 'builtin-tiny-llama',
  label: 'Built-in tiny Llama (offline, random weights)',
  modelName: 'whetstone/tiny-llama-random',
  description:
    'A 2-layer Llama with a byte-level tokenizer and seeded random weights. It learns your text quickly, ' +
    'which makes it good for trying the studio, but it knows no language yet.',
  get maxSeqLen() {
    return tinyLlamaConfig().max_position_embeddings;
  },
  files: tinyLlamaFiles,
};

/** The built-in model first, then loaded models in the order they were registered. */
export const studioModels: StudioModel[] = [builtinTinyLlama];

/** Adds (or replaces, by id) a loaded model, so every screen's `findModel` sees it. */
export function registerModel(model: StudioModel): void {
  const at = studioModels.findIndex((m) => m.id === model.id);
  if (at >= 0) studioModels[at] = model;
  else studioModels.push(model);
}

export function findModel(id: string): StudioModel | undefined {
  return studioModels.find((model) => model.id === id);
}

const configs = new WeakMap<StudioModel, DecoderConfig>();

/** The model's parsed config.json (throws the config parser's named errors). */
export function configOf(model: StudioModel): DecoderConfig {
  let config = configs.get(model);
  if (!config) {
    const bytes = model.files()['config.json'];
    if (!bytes) throw new Error(`${model.label} has no config.json.`);
    config = parseModelConfig(JSON.parse(new TextDecoder().decode(bytes)));
    configs.set(model, config);
  }
  return config;
}
