/**
 * What a training run needs, as plain data that crosses postMessage: the model's files, the method
 * and its options, the training settings and the examples as text.
 */
import type { TrainConfig } from '../train-config';

export type MethodSpec =
  | { method: 'full' }
  | {
      method: 'lora';
      r: number;
      alpha: number;
      dropout: number;
      targetModules?: string[] | 'all-linear';
      useRslora?: boolean;
    };

export interface RunSpec {
  /** Model files by name (config.json, model.safetensors, tokenizer.json, ...). */
  modelFiles: Record<string, Uint8Array>;
  /** Shown in saved adapters as base_model_name_or_path. */
  modelName: string;
  method: MethodSpec;
  train: TrainConfig;
  trainTexts: string[];
  validationTexts: string[];
}
