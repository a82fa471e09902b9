/**
 * A run config: one training run written down as JSON, so it can be handed to another engine (TRL + PEFT
 * on accelerate; see export-job.ts). It reuses the engine's own types: `TrainConfig` for the optimizer and
 * schedule, the PEFT builders' options for the method, and the dataset loader's options for the data.
 *
 *   {
 *     "model":    { "id": "HuggingFaceTB/SmolLM2-135M-Instruct", "revision": null, "quantization": "nf4" },
 *     "method":   { "method": "lora", "r": 8, "alpha": 16, "dropout": 0.05, "targetModules": ["q_proj", "v_proj"] },
 *     "training": { "optimizer": "adamw", "lr": 0.0002, "schedule": "cosine", "warmupSteps": 10, "steps": 500, ... },
 *     "data":     { "file": "train.jsonl", "schema": { "kind": "chat" }, "maskPrompt": true, "validationFraction": 0.1 }
 *   }
 *
 * Every field but model.id, method.method and data.file has a default (below, and `defaultTrainConfig`;
 * the learning rate defaults to TrainConfig's 2e-4 for every method, unlike the CLI's per-method rates,
 * so a config exported from a run should always carry its lr).
 * model.quantization is a QLoRA run's: "nf4" loads the decoder layers' frozen linear weights as 4-bit
 * NormalFloat (blocks of 64, absmax kept f32, no double quantization; embeddings and lm_head as they are),
 * as bitsandbytes' load_in_4bit does. Absent (or null): no quantization. Only a PEFT method may set it:
 * full fine-tuning trains every weight.
 * training.loraPlusLrRatio is LoRA+'s (LoRA and DoRA runs only): absent, every tensor learns at one rate.
 * training.earlyStoppingPatience stops after that many evaluations (every training.evalEvery steps, which
 * must be above 0) without a lower validation loss and ends on the best weights; it needs a validation
 * split or file, and only language-model runs take it. Absent: every step trains.
 * training.preference ({ "beta": 0.1 }) makes the run DPO on preference pairs (TrainConfig.preference; the
 * export is TRL's DPOTrainer, dpo.ts); data.packing must then stay false and data.maskPrompt true.
 * Absent: SFT, and preference pairs train on their chosen responses.
 * `parseRunConfig` (parse-run-config.ts) reads and checks one, throwing a `RunConfigError` that names the field.
 */
import type { DatasetFormat } from '../data/formats';
import type { PlainTextMode } from '../data/plain-text';
import type { SchemaOverride } from '../data/schema';
import type { DecoderConfig } from '../models/config';
import type { TrainConfig } from '../train-config';

/** How a run loads its frozen base: the engine's `DecoderConfig.baseQuantization`. */
export type BaseQuantization = NonNullable<DecoderConfig['baseQuantization']>;

export const baseQuantizations: readonly BaseQuantization[] = ['nf4'];

export type TargetModulesSetting = string[] | 'all-linear';

/** The method and the hyperparameters that go into its PEFT config. */
export type JobMethod =
  | { method: 'full' }
  /** LoRA; rsLoRA scales by alpha/sqrt(r); DoRA ("method": "dora" is accepted as LoRA with useDora). */
  | {
      method: 'lora';
      r: number;
      alpha: number;
      dropout: number;
      /** PEFT's default for the architecture when absent. */
      targetModules?: TargetModulesSetting;
      useRslora: boolean;
      useDora: boolean;
    }
  | { method: 'ia3'; targetModules?: TargetModulesSetting; feedforwardModules?: string[] }
  | { method: 'prompt'; numVirtualTokens: number }
  | { method: 'prefix'; numVirtualTokens: number; prefixProjection: boolean; encoderHiddenSize?: number }
  /** Bottleneck adapters: a valid run, but PEFT has no such method, so export refuses it. */
  | { method: 'adapter'; reductionFactor: number };

export type JobMethodName = JobMethod['method'];

export interface RunDataConfig {
  /** The dataset file: a path relative to the run config's folder (CLI), or the name of the bytes handed in. */
  file: string;
  /** Detected from the name and bytes when absent. */
  format?: DatasetFormat;
  /** Plain text only ('blocks' when absent). */
  textMode?: PlainTextMode;
  /** The schema and column mapping; detected from the columns when absent. */
  schema?: SchemaOverride;
  /** Leave rows that do not fit the schema out (counted) instead of stopping. Default false. */
  skipBadRows: boolean;
  /** Train only on completions and assistant turns. Default true. */
  maskPrompt: boolean;
  /** Concatenate examples into full rows (TRL's "wrapped" packing). Default false. */
  packing: boolean;
  /** Share held out for validation by the seeded split (seed: training.seed). Default 0. */
  validationFraction: number;
  /** A separate validation file instead of a split. */
  validationFile?: string;
}

export interface RunConfig {
  model: {
    /** A Hugging Face hub repo id, or a local name (a folder the job's machine has). */
    id: string;
    revision: string | null;
    /** QLoRA: the decoder layers' frozen linear weights load as 4-bit NF4. Absent: not quantized. */
    quantization?: BaseQuantization;
  };
  method: JobMethod;
  training: TrainConfig;
  data: RunDataConfig;
}

/** The defaults of each method's hyperparameters: the CLI's (src/cli/train.ts), which are PEFT's. */
export const methodDefaults = {
  lora: { r: 8, alpha: 8, dropout: 0, useRslora: false, useDora: false },
  prompt: { numVirtualTokens: 20 },
  prefix: { numVirtualTokens: 20, prefixProjection: false },
  adapter: { reductionFactor: 16 },
} as const;

export const dataDefaults = {
  skipBadRows: false,
  maskPrompt: true,
  packing: false,
  validationFraction: 0,
} as const;

export const jobMethodNames: readonly string[] = [
  'full',
  'lora',
  'dora',
  'ia3',
  'prompt',
  'prefix',
  'adapter',
];

/**
 * The run config as JSON text that `parseRunConfig` reads back to the same config: defaults written
 * out, and `epochs` left out when `steps` decides the length (a config may give one, not both).
 */
export function runConfigJson(run: RunConfig): string {
  const { epochs: _epochs, ...withoutEpochs } = run.training;
  const training = run.training.steps === undefined ? run.training : withoutEpochs;
  return `${JSON.stringify({ ...run, training }, null, 2)}\n`;
}
