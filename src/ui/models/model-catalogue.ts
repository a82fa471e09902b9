/**
 * The models the studio can train: the built-in offline models (a tiny Llama language model and a tiny
 * BERT classifier, both with seeded random weights made by the project's own fixture code, so the whole
 * studio works with no network) and every model loaded this session (downloaded from the hub or picked
 * from a folder; models-slice.ts registers them). Files are held as bytes and handed to the worker. The
 * curated hub list is curated-models.ts. A model's task decides what its runs train: decoders train
 * language models, encoders (BERT, DistilBERT, RoBERTa) train sequence classifiers.
 */
import { builtInClassifierFiles, builtInClassifierName } from '../../train/fixtures/tiny-encoders';
import { tinyModelFiles } from '../../train/fixtures/tiny-models';
import { type EncoderConfig, parseEncoderConfig } from '../../train/models/bert-config';
import { type DecoderConfig, parseModelConfig, withStoredPrecision } from '../../train/models/config';
import type { RunTask } from '../../train/worker/run-spec';

export interface StudioModel {
  id: string;
  label: string;
  /** base_model_name_or_path in saved adapters. */
  modelName: string;
  description: string;
  /** The longest row the model takes (its max_position_embeddings). */
  maxSeqLen: number;
  /** Absent: 'causal-lm'. Encoders are 'classification': their runs train a classifier head. */
  task?: RunTask;
  /**
   * A loaded decoder's weight files are all F16/BF16 (true) or not (false), read from their headers;
   * it overrides config.json's torch_dtype in the memory plan, as the worker's loader goes by the files.
   */
  halfWeights?: boolean;
  files(): Record<string, Uint8Array>;
}

/** What a model's runs train: a language model (decoders) or a sequence classifier (encoders). */
export const taskOf = (model: StudioModel): RunTask => model.task ?? 'causal-lm';

export const isClassifierModel = (model: StudioModel | undefined): boolean =>
  model !== undefined && taskOf(model) === 'classification';

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

const tinyBertFiles = once(builtInClassifierFiles);

export const builtinTinyBert: StudioModel = {
  id: 'builtin-tiny-bert',
  label: 'Built-in tiny BERT classifier (offline, random weights)',
  modelName: builtInClassifierName,
  description:
    'A 1-layer BERT (width 32) with a two-class head, a tiny WordPiece vocabulary and seeded random ' +
    'weights. It trains text and sentence-pair classifiers in seconds, but it knows no language yet: ' +
    'use it to try classification in the studio.',
  get maxSeqLen() {
    return encoderConfigOf(builtinTinyBert).P;
  },
  task: 'classification',
  files: tinyBertFiles,
};

/** The built-in models first, then loaded models in the order they were registered. */
export const studioModels: StudioModel[] = [builtinTinyLlama, builtinTinyBert];

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

function configJsonOf(model: StudioModel): unknown {
  const bytes = model.files()['config.json'];
  if (!bytes) throw new Error(`${model.label} has no config.json.`);
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** A decoder's parsed config.json (throws the config parser's named errors, and for an encoder). */
export function configOf(model: StudioModel): DecoderConfig {
  let config = configs.get(model);
  if (!config) {
    config = parseModelConfig(configJsonOf(model));
    if (model.halfWeights !== undefined) config = withStoredPrecision(config, model.halfWeights);
    configs.set(model, config);
  }
  return config;
}

const encoderConfigs = new WeakMap<StudioModel, EncoderConfig>();

/** An encoder classifier's parsed config.json (throws the encoder config parser's named errors). */
export function encoderConfigOf(model: StudioModel): EncoderConfig {
  let config = encoderConfigs.get(model);
  if (!config) {
    config = parseEncoderConfig(configJsonOf(model));
    encoderConfigs.set(model, config);
  }
  return config;
}
