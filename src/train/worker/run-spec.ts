/**
 * What a training run needs, as plain data that crosses postMessage: the model's files, the method
 * and its options, the training settings and the examples. Examples come either as plain texts (the
 * first slice's contract, still accepted) or as the data pipeline's examples (chat, instruction,
 * prompt/completion), which the worker tokenizes with the model's own tokenizer and chat template,
 * masking prompts (src/train/data prepareTrainingData).
 */
import type { CheckpointState } from '../checkpoint-state';
import type { Example } from '../data/examples';
import type { PlainTextMode } from '../data/plain-text';
import type { SchemaOverride } from '../data/schema';
import type { TargetModules } from '../peft/targets';
import type { TrainConfig } from '../train-config';

export interface LoraSpec {
  /** DoRA takes LoRA's options and adds a trained magnitude per output. */
  method: 'lora' | 'dora';
  r: number;
  alpha: number;
  dropout: number;
  targetModules?: TargetModules;
  /** rsLoRA: scale alpha/sqrt(r) instead of alpha/r. */
  useRslora?: boolean;
}

export type MethodSpec =
  | { method: 'full' }
  | LoraSpec
  | { method: 'ia3'; targetModules?: TargetModules }
  | { method: 'prompt'; numVirtualTokens: number }
  | { method: 'prefix'; numVirtualTokens: number; prefixProjection?: boolean; encoderHiddenSize?: number }
  | { method: 'adapter'; reductionFactor: number };

export type MethodName = MethodSpec['method'];

/**
 * A dataset file as the studio's library keeps it (the raw bytes, which cross postMessage and go to
 * IndexedDB without copying), with how the person chose to read it. The worker reads it with the same
 * streaming loader as the CLI (loadDatasetStream), so the page never holds the examples.
 */
export interface RunDataFile {
  blob: Blob;
  fileName: string;
  /** The person's schema and column mapping; absent: detected from the columns. */
  schema?: SchemaOverride;
  skipBadRows?: boolean;
}

/**
 * Examples from the data pipeline, tokenized in the worker with the run's model: given as examples, or
 * as a file the worker reads first.
 */
export type RunData = RunDataSettings &
  ({ examples: Example[]; file?: undefined } | { file: RunDataFile; examples?: undefined });

export interface RunDataSettings {
  /** A separate validation set; otherwise `validationFraction` of `examples` is held out (seeded). */
  validationExamples?: Example[];
  validationFraction?: number;
  /** How plain text was read (one example per line, or the whole file cut into rows). */
  textMode?: PlainTextMode;
  /** Train only on completions and assistant turns (default true). */
  maskPrompt?: boolean;
  packing?: boolean;
}

/**
 * 'causal-lm' (the default): next-token training of a decoder. 'classification': an encoder (BERT,
 * DistilBERT, RoBERTa) with a sequence-classification head, on a classification or sentence-pair file.
 */
export type RunTask = 'causal-lm' | 'classification';

export interface RunSpec {
  /** Absent: 'causal-lm'. */
  task?: RunTask;
  /** Model files by name (config.json, model.safetensors, tokenizer.json, ...). */
  modelFiles: Record<string, Uint8Array>;
  /** Shown in saved adapters as base_model_name_or_path. */
  modelName: string;
  method: MethodSpec;
  /**
   * Load the decoder layers' frozen matrices as 4-bit NormalFloat, as QLoRA does (weight-storage.ts).
   * Any method but full fine-tuning; not for classifiers.
   */
  baseQuantization?: 'nf4';
  train: TrainConfig;
  /** Plain texts, each one example (used when `data` is absent). */
  trainTexts?: string[];
  validationTexts?: string[];
  /** The data pipeline's examples; preferred over the texts when given. */
  data?: RunData;
  /** Send a checkpoint every this many steps (0 or absent: none), so a lost device loses little. */
  checkpointEvery?: number;
  /** Continue a run from its checkpoint: same batches, dropout masks and optimizer state. */
  resumeFrom?: CheckpointState;
  /** Training time the run had spent before `resumeFrom`, so its time axis goes on instead of restarting. */
  elapsedMsBefore?: number;
}
