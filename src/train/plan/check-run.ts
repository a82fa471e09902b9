/**
 * The refusal before training: plans the run and throws a `MemoryPlanError` (a ModelTooLargeError)
 * whose message says what to change when the plan is over the device's per-buffer limits or the memory
 * budget (TrainConfig.memoryBudgetBytes, else `defaultMemoryBudgetBytes`). The CLI and the worker call
 * it before the model's weights reach the GPU; the Trainer calls it again, with the examples' real
 * length, before it plans its step.
 */
import type { DecoderConfig } from '../models/config';
import type { TrainConfig } from '../train-config';
import { assertPlanFits } from './fit';
import { type MemoryPlan, planMemory } from './memory-plan';
import type { MethodSettings } from './method-settings';

export interface RunShape {
  /** Tokens per row the step will be planned for (the trainer's batch length); the sequence length if absent. */
  T?: number;
  /** A validation set, so an evaluation step is planned beside the training step. */
  evaluation: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

export type RunSettings = Pick<
  TrainConfig,
  | 'batchSize'
  | 'seqLen'
  | 'gradAccum'
  | 'optimizer'
  | 'gradientCheckpointing'
  | 'memoryBudgetBytes'
  | 'earlyStoppingPatience'
>;

export function checkRunMemory(
  model: DecoderConfig,
  method: MethodSettings,
  train: RunSettings,
  shape: RunShape,
): MemoryPlan {
  const plan = planMemory(model, method, {
    batchSize: train.batchSize,
    seqLen: shape.T ?? train.seqLen,
    gradAccum: train.gradAccum,
    optimizer: train.optimizer,
    gradientCheckpointing: train.gradientCheckpointing,
    evaluation: shape.evaluation,
    ...(train.earlyStoppingPatience ? { keepBestWeights: true } : {}),
  });
  assertPlanFits(plan, {
    maxBufferSize: shape.limits.maxBufferSize,
    maxStorageBufferBindingSize: shape.limits.maxStorageBufferBindingSize,
    ...(train.memoryBudgetBytes ? { memoryBudgetBytes: train.memoryBudgetBytes } : {}),
  });
  return plan;
}
