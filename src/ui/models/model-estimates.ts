/**
 * Estimates for the model picker and the run setup, from a model's config alone (no GPU, no download):
 * parameter count, download size, and the memory plan of each method at the setup's batch and sequence
 * length against this GPU's limits. All come from the planner (src/train/plan), whose numbers are
 * estimates until a run measures them; the UI labels them so. Encoder classifiers are planned by the
 * encoder planner (planEncoderMemory) with the config's class count and dropout on, as the worker runs
 * them; the worker plans again with the data's label count before it uploads the model
 * (src/train/classify/classifier-memory.ts). A DPO run's step holds a chosen and a rejected row per pair,
 * so a decoder's DPO plan is made at twice the batch, as the Trainer checks it.
 */
import { type EncoderConfig, isEncoderConfig, parseEncoderConfig } from '../../train/models/bert-config';
import { type DecoderConfig, parseModelConfig, withBaseQuantization } from '../../train/models/config';
import { longestRow } from '../../train/models/row-limit';
import {
  defaultMemoryBudgetBytes,
  encoderMaxTokens,
  type FitResult,
  type MemoryLimits,
  type MemoryPlan,
  type MethodName,
  type MethodSettings,
  methodNames,
  planEncoderMemory,
  planMemory,
} from '../../train/plan/index';
import type { GpuState } from '../state/gpu-slice';
import { rowsPerExample } from '../state/preference-setup';
import type { RunSetup } from '../state/run-setup';
import { type CuratedModel, dtypeBytes } from './curated-models';

/** The base model's parameters (the planner's count of its weights). */
export function modelParameters(config: DecoderConfig): number {
  return planMemory(config, { method: 'full' }, { batchSize: 1, seqLen: 1 }).parameters.total;
}

/** An encoder classifier's parameters (the planner's count): every weight of *ForSequenceClassification. */
export function encoderParameters(config: EncoderConfig): number {
  return planEncoderMemory(config, { method: 'full' }, { batchSize: 1, seqLen: 1 }).parameters.total;
}

/**
 * A curated model's parsed config, stored as its hub weights are (config.json's torch_dtype): a BF16
 * model's frozen matrices stay 16-bit, so its PEFT estimates count them at 2 bytes, as the run will.
 */
export function curatedConfig(model: CuratedModel): DecoderConfig | EncoderConfig {
  return model.task === 'classification'
    ? parseEncoderConfig(model.config)
    : parseModelConfig({ ...model.config, torch_dtype: model.dtype });
}

/** A parsed config's parameters, counted by the planner (an encoder's as its classifier's). */
export function configParameters(config: DecoderConfig | EncoderConfig): number {
  return isEncoderConfig(config) ? encoderParameters(config) : modelParameters(config);
}

/** A curated model's parameters, counted by the planner. */
export function curatedParameters(model: CuratedModel): number {
  return configParameters(curatedConfig(model));
}

/**
 * The safetensors download, estimated as the values the file stores (its `parameters`, or more where it
 * keeps buffers or a tied head's copy) × the stored dtype's size; the header is small.
 */
export function downloadEstimateBytes(model: CuratedModel, parameters: number): number {
  return (model.storedParameters ?? parameters) * dtypeBytes[model.dtype];
}

/**
 * WebGPU's default limits (the spec's): what a page gets before the adapter is known or without one.
 * maxBufferSize 256 MiB, maxStorageBufferBindingSize 128 MiB.
 */
export const webGpuDefaultLimits = { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 };

export interface LimitsInUse extends MemoryLimits {
  /** 'adapter' when read from this GPU's adapter, 'defaults' when WebGPU's default limits stand in. */
  source: 'adapter' | 'defaults';
}

/** The per-buffer limits from the GPU probe (or the WebGPU defaults) plus the memory budget. */
export function limitsFor(gpu: GpuState, memoryBudgetBytes: number): LimitsInUse {
  const reported = gpu.status === 'ready' ? gpu.report.limits : undefined;
  const maxBufferSize = reported?.maxBufferSize;
  const maxBinding = reported?.maxStorageBufferBindingSize;
  if (maxBufferSize && maxBinding)
    return { source: 'adapter', maxBufferSize, maxStorageBufferBindingSize: maxBinding, memoryBudgetBytes };
  return { source: 'defaults', ...webGpuDefaultLimits, memoryBudgetBytes };
}

/** The memory budget field (GiB, typed text) in bytes; the planner's default when it is not a positive number. */
export function memoryBudgetBytes(typed: string): number {
  const gib = Number(typed.trim());
  return Number.isFinite(gib) && gib > 0 ? Math.round(gib * 2 ** 30) : defaultMemoryBudgetBytes;
}

/** A setup field read leniently: while the person is typing, an unfinished value falls back to `fallback`. */
function wholeField(setup: RunSetup, field: keyof RunSetup['fields'], fallback: number): number {
  const n = Number(setup.fields[field].trim());
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/** Each method's planner settings as the setup would run it. */
export function methodSettingsFor(setup: RunSetup, method: MethodName): MethodSettings {
  switch (method) {
    case 'full':
    case 'ia3':
      return { method };
    case 'lora':
    case 'dora':
      // q_proj, v_proj is PEFT's default for Llama-family models; leaving it out lets the planner use
      // each architecture's default (c_attn for GPT-2), as PEFT would.
      return {
        method,
        r: wholeField(setup, 'loraR', 8),
        ...(setup.loraTargets === 'all-linear' ? { targetModules: 'all-linear' as const } : {}),
      };
    case 'prompt':
    case 'prefix':
      return { method, numVirtualTokens: wholeField(setup, 'numVirtualTokens', 8) };
    case 'adapter': {
      const factor = Number(setup.fields.reductionFactor.trim());
      return { method, reductionFactor: Number.isFinite(factor) && factor > 0 ? factor : 8 };
    }
  }
}

/**
 * Everything of a setup that the estimates read (batch size, sequence length, the methods' own
 * settings, the base's storage, gradient accumulation, the optimizer and gradient checkpointing): setups with the same key get the same estimates, so the catalogue re-plans its rows only
 * when one of these changes, not on every keystroke in a learning rate.
 */
export function estimateKey(setup: RunSetup, dpo = false): string {
  const f = setup.fields;
  return JSON.stringify([
    dpo,
    f.batchSize,
    f.seqLen,
    f.loraR,
    f.numVirtualTokens,
    f.reductionFactor,
    setup.loraTargets,
    setup.quantizeBase,
    f.gradAccum,
    setup.optimizer,
    setup.gradientCheckpointing,
  ]);
}

export interface MethodEstimate {
  method: MethodName;
  plan: MemoryPlan;
  fit: FitResult;
}

/** A method the planner cannot plan for this model (e.g. targets it lacks), with the planner's reason. */
export interface MethodEstimateError {
  method: MethodName;
  error: string;
}

/**
 * The plan of one method at the setup's batch size and sequence length (capped at the model's
 * positions); an encoder's as its classification run trains (the config's classes, dropout on).
 */
export function estimateMethod(
  config: DecoderConfig | EncoderConfig,
  setup: RunSetup,
  method: MethodName,
  limits: MemoryLimits,
  /** Plan a DPO run: two rows (chosen, rejected) per pair of the batch. */
  dpo = false,
): MethodEstimate {
  const plan = planMethod(config, setup, method, dpo);
  return { method, plan, fit: plan.fits(limits) };
}

function planMethod(
  config: DecoderConfig | EncoderConfig,
  setup: RunSetup,
  method: MethodName,
  dpo: boolean,
): MemoryPlan {
  const batchSize = wholeField(setup, 'batchSize', 1);
  const settings = methodSettingsFor(setup, method);
  const seqLen = wholeField(setup, 'seqLen', 64);
  // Prompt tuning's virtual tokens take positions too; the worker's rows are no longer than what is left.
  const virtual = settings.method === 'prompt' ? settings.numVirtualTokens : 0;
  const training = { gradAccum: wholeField(setup, 'gradAccum', 1), optimizer: setup.optimizer };
  const plan = isEncoderConfig(config)
    ? planEncoderMemory(config, settings, {
        batchSize,
        seqLen: Math.max(1, Math.min(seqLen, encoderMaxTokens(config) - virtual)),
        ...training,
      })
    : // A quantized base changes the frozen weights only: full fine-tuning plans f32 whatever is asked.
      planMemory(withBaseQuantization(config, setup.quantizeBase ? 'nf4' : undefined), settings, {
        batchSize: batchSize * rowsPerExample(dpo),
        seqLen: Math.min(seqLen, longestRow(config)),
        ...training,
        gradientCheckpointing: setup.gradientCheckpointing,
        // The studio always holds out a validation set, so the worker plans an evaluation step too.
        evaluation: true,
      });
  return plan;
}

/** Each method's plan (the costly part), before it is held against a GPU's limits. */
export type MethodPlanned = Omit<MethodEstimate, 'fit'>;

export function planAllMethods(
  config: DecoderConfig | EncoderConfig,
  setup: RunSetup,
  dpo = false,
): (MethodPlanned | MethodEstimateError)[] {
  return methodNames.map((method) => {
    try {
      return { method, plan: planMethod(config, setup, method, dpo) };
    } catch (error) {
      return { method, error: error instanceof Error ? error.message : String(error) };
    }
  });
}

/** The plans held against the limits: cheap, so a change of GPU or budget re-plans nothing. */
export function withFits(
  planned: (MethodPlanned | MethodEstimateError)[],
  limits: MemoryLimits,
): (MethodEstimate | MethodEstimateError)[] {
  return planned.map((p) => ('error' in p ? p : { ...p, fit: p.plan.fits(limits) }));
}

/** "134.5M" style counts for the picker. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}
