/**
 * What the memory planner needs to know about a run: the training method with the options that change
 * its buffers, and the step's shape. Plain data, so the UI, the CLI and the trainer describe a run the
 * same way. `validatePlanSettings` throws a `PlanSettingsError` that names the setting.
 * (rsLoRA, alpha and learning rates change no buffer, so they are not here.)
 */
import type { OptimizerKind } from '../train-config';

export type TargetModulesSetting = string[] | 'all-linear';

export type MethodSettings =
  | { method: 'full'; freezeEmbeddings?: boolean }
  /** LoRA and DoRA: rank r over the target modules (PEFT's defaults when absent). */
  | { method: 'lora' | 'dora'; r: number; targetModules?: TargetModulesSetting; dropout?: number }
  | { method: 'ia3'; targetModules?: TargetModulesSetting; feedforwardModules?: string[] }
  /** Prompt tuning: P virtual tokens run in front of every row. */
  | { method: 'prompt'; numVirtualTokens: number }
  /** Prefix tuning: P keys and values per layer; an MLP of width H when projected (H = token_dim). */
  | { method: 'prefix'; numVirtualTokens: number; prefixProjection?: boolean; encoderHiddenSize?: number }
  /** Bottleneck adapters of width floor(C / reductionFactor) after the chosen sublayers (both by default). */
  | { method: 'adapter'; reductionFactor: number; positions?: ('attention' | 'ffn')[] };

export type MethodName = MethodSettings['method'];
export const methodNames: readonly MethodName[] = [
  'full',
  'lora',
  'dora',
  'ia3',
  'prefix',
  'prompt',
  'adapter',
];

export interface StepSettings {
  batchSize: number;
  /** Tokens per row the step is planned for (the trainer's T: at most the sequence length). */
  seqLen: number;
  gradientCheckpointing?: boolean;
  /** Default adamw. */
  optimizer?: OptimizerKind;
  /** Above 1, a summed gradient per trainable tensor is kept too. */
  gradAccum?: number;
  /** A validation set: the trainer plans an evaluation step beside the training step. */
  evaluation?: boolean;
  /** Early stopping: a copy of every trainable tensor at the best evaluation (early-stopping.ts). */
  keepBestWeights?: boolean;
}

export class PlanSettingsError extends Error {
  override readonly name = 'PlanSettingsError';
}

const positiveInt = (value: number, what: string) => {
  if (!(Number.isInteger(value) && value > 0))
    throw new PlanSettingsError(`${what} must be a positive whole number, got ${value}.`);
};

export function validatePlanSettings(method: MethodSettings, step: StepSettings): void {
  positiveInt(step.batchSize, 'batch size');
  positiveInt(step.seqLen, 'sequence length');
  if (step.gradAccum !== undefined) positiveInt(step.gradAccum, 'gradient accumulation');
  if (step.optimizer !== undefined && step.optimizer !== 'adamw' && step.optimizer !== 'sgd')
    throw new PlanSettingsError(`optimizer must be adamw or sgd, got ${String(step.optimizer)}.`);
  if (!methodNames.includes(method.method))
    throw new PlanSettingsError(
      `method must be one of ${methodNames.join(', ')}, got ${String(method.method)}.`,
    );
  if (method.method === 'lora' || method.method === 'dora') positiveInt(method.r, 'LoRA rank r');
  if (method.method === 'prompt' || method.method === 'prefix')
    positiveInt(method.numVirtualTokens, 'number of virtual tokens');
  if (method.method === 'prefix' && method.encoderHiddenSize !== undefined)
    positiveInt(method.encoderHiddenSize, 'encoder hidden size');
  if (method.method === 'adapter' && !(method.reductionFactor > 0))
    throw new PlanSettingsError(`reduction factor must be positive, got ${method.reductionFactor}.`);
}
