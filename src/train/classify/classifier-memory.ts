/**
 * Refuses an encoder classification run that cannot fit, before any weight reaches the GPU, from the
 * memory planner's plan of the run (src/train/plan/encoder-plan.ts): its largest buffer against the
 * device's per-buffer limit (min(maxStorageBufferBindingSize, maxBufferSize)) and its total against the
 * run's memory budget. The refusal is a MemoryPlanError (a ModelTooLargeError) whose message names the
 * buffer or the total, says the figure is an estimate, and says what to change. The studio's worker and
 * `whetstone train --task classification` both call it, so they refuse what the studio's estimate shows.
 */
import type { EncoderConfig } from '../models/bert-config';
import { planEncoderMemory } from '../plan/encoder-plan';
import { type MemoryLimits, MemoryPlanError } from '../plan/fit';
import type { MemoryPlan } from '../plan/memory-plan';
import type { MethodSettings } from '../plan/method-settings';
import type { OptimizerKind } from '../train-config';
import type { MethodSpec } from '../worker/run-spec';

export interface EncoderRunSettings {
  /** Rows per batch. */
  B: number;
  /** Tokens per row the step is planned for (the encoded split's T). */
  T: number;
  optimizer?: OptimizerKind;
  gradAccum?: number;
  /** Whether the model's dropout is on in training (classification runs train with it). */
  dropout?: boolean;
  /** Head weights the checkpoint lacked (trained beside a PEFT method). */
  initialisedHead?: readonly string[];
  memoryBudgetBytes?: number;
}

/** A run's MethodSpec as the planner's settings (only what changes buffers). */
export function encoderMethodSettings(spec: MethodSpec): MethodSettings {
  switch (spec.method) {
    case 'full':
      return { method: 'full' };
    case 'lora':
    case 'dora':
      return {
        method: spec.method,
        r: spec.r,
        dropout: spec.dropout,
        ...(spec.targetModules ? { targetModules: spec.targetModules } : {}),
      };
    case 'ia3':
      return { method: 'ia3', ...(spec.targetModules ? { targetModules: spec.targetModules } : {}) };
    case 'prompt':
      return { method: 'prompt', numVirtualTokens: spec.numVirtualTokens };
    case 'prefix':
      return {
        method: 'prefix',
        numVirtualTokens: spec.numVirtualTokens,
        prefixProjection: Boolean(spec.prefixProjection),
        ...(spec.encoderHiddenSize ? { encoderHiddenSize: spec.encoderHiddenSize } : {}),
      };
    case 'adapter':
      return { method: 'adapter', reductionFactor: spec.reductionFactor };
  }
}

/** Plans the run; throws a MemoryPlanError (a ModelTooLargeError) saying what to change when it does not fit. */
export function checkEncoderRunMemory(
  c: EncoderConfig,
  method: MethodSettings,
  run: EncoderRunSettings,
  limits: Pick<MemoryLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>,
): MemoryPlan {
  const plan = planEncoderMemory(c, method, {
    batchSize: run.B,
    seqLen: run.T,
    ...(run.optimizer ? { optimizer: run.optimizer } : {}),
    ...(run.gradAccum ? { gradAccum: run.gradAccum } : {}),
    ...(run.dropout === undefined ? {} : { dropout: run.dropout }),
    ...(run.initialisedHead ? { initialisedHead: run.initialisedHead } : {}),
  });
  const fit = plan.fits({
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    ...(run.memoryBudgetBytes ? { memoryBudgetBytes: run.memoryBudgetBytes } : {}),
  });
  if (fit.fits) return plan;
  throw new MemoryPlanError(
    `This ${method.method} classification run (batch ${run.B} × ${run.T} tokens) does not fit: ` +
      `${fit.problems.join('; and ')}. To fit, ${fit.advice.join('; ')}. ` +
      'The budget is --memory-budget (or the memory budget setting) if this GPU has more.',
    plan,
    fit,
  );
}
