/**
 * The models the studio offers. For now only the built-in offline model: a tiny Llama with seeded random
 * weights, made by the project's own fixture code, so the whole studio works with no network. Hub models
 * join this list later. Files are made on demand (once) and handed to the worker as bytes.
 */
import { tinyModelFiles } from '../../train/fixtures/tiny-models';

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

export const studioModels: StudioModel[] = [builtinTinyLlama];

export function findModel(id: string): StudioModel | undefined {
  return studioModels.find((model) => model.id === id);
}
