/**
 * The memory planner: from a model config alone (no GPU), the bytes a training run will hold on the
 * GPU at its peak, by component, and the largest single buffer. It lists the buffers the trainer will
 * allocate (model weights, the method's parameters and gradients, optimizer state, the planned step's
 * activations, logits and scratch, the per-dispatch uniforms and the loss read-back) as the code
 * allocates them, so it tracks the arena's measured peak (plan.node.test.ts holds it within 10%).
 *
 * Encoder classifiers are planned by encoder-plan.ts into the same MemoryPlan.
 * Contract: `planMemory(config, method, step)` → MemoryPlan; `plan.fits(limits)` says whether it fits a
 * device's per-buffer limits and a total budget, and if not, what to change. Everything here is an
 * estimate until measured; the UI must say so.
 */

import { halfBufferBytes } from '../../numeric/half';
import { nf4Bytes } from '../../numeric/nf4';
import type { DecoderConfig } from '../models/config';
import { expectedWeights } from '../models/weight-shapes';
import { storedDtype } from '../models/weight-storage';
import { type FitResult, fitOf, type MemoryLimits } from './fit';
import { Ledger, type LedgerEntry, type MemoryComponent, memoryComponents } from './ledger';
import { type MethodSettings, type StepSettings, validatePlanSettings } from './method-settings';
import { methodParameters, methodStepBuffers } from './method-tensors';
import { lmHeadChunks, stepBuffers, stepDispatches, stepShape } from './step-tensors';

export interface MemoryPlan {
  /** Bytes by component; they sum to totalBytes. */
  components: Record<MemoryComponent, number>;
  totalBytes: number;
  /** The one buffer that must fit in maxStorageBufferBindingSize and maxBufferSize. */
  largestBuffer: { label: string; bytes: number; component: MemoryComponent };
  /** Activations kept for the backward, with and without gradient checkpointing (the plan uses one). */
  activationBytes: { withCheckpointing: number; withoutCheckpointing: number };
  parameters: { total: number; trainable: number };
  /** The frozen weight matrices load in half precision, as a 16-bit checkpoint stores them (weight-storage.ts). */
  halfWeights: boolean;
  /** The decoder layers' frozen matrices load quantized to NF4, as the run asked (weight-storage.ts). */
  quantizedWeights: boolean;
  /** Rows per step after prompt tuning's virtual tokens: the N of a decoder's [N, V] logits (an encoder's B·T). */
  rows: number;
  /** What the plan could not model or leaves the same (an encoder has no gradient checkpointing). */
  notes?: string[];
  settings: { method: MethodSettings; step: StepSettings };
  fits(limits: MemoryLimits): FitResult;
}

/** Uniform buffers per dispatch: most are 16 bytes, the attention's and optimizer's up to 128. */
export const uniformBytesPerDispatch = 24;

/**
 * GpuOptimizer's buffers (src/train/optim/optimizer.ts): the step uniform, the clip state, grad-norm
 * partials and (AdamW) m and v; with gradient accumulation, a summed gradient per trainable tensor; with
 * early stopping, the best weights (early-stopping.ts).
 */
export function optimizerBuffers(ledger: Ledger, trainable: number[][], step: StepSettings): void {
  ledger.bytes('optimizer', 'optimizer step', 16);
  ledger.tensor('optimizer', 'clip state', [4]);
  // One partial per workgroup of grad-norm.ts (gradNormGroups: 32768 elements each, at most 512).
  const groups = trainable.reduce(
    (n, dims) => n + Math.min(512, Math.max(1, Math.ceil(dims.reduce((a, b) => a * b, 1) / 32768))),
    0,
  );
  ledger.tensor('optimizer', 'grad norm partials', [groups]);
  if ((step.optimizer ?? 'adamw') === 'adamw')
    for (const dims of trainable) ledger.tensor('optimizer', 'exp_avg and exp_avg_sq', dims, 2);
  if ((step.gradAccum ?? 1) > 1)
    for (const dims of trainable) ledger.tensor('gradients', 'accumulated grad', dims);
  // Training state beside the moments: the weights of the best evaluation.
  if (step.keepBestWeights)
    for (const dims of trainable) ledger.tensor('optimizer', 'best weights (early stopping)', dims);
}

function ledgerFor(c: DecoderConfig, method: MethodSettings, step: StepSettings, checkpointing: boolean) {
  const ledger = new Ledger();
  const B = step.batchSize;
  const shape = stepShape(method, B, step.seqLen);
  const N = B * shape.T;
  for (const [name, dims] of expectedWeights(c)) {
    // Frozen matrices may load as binary16 or NF4 (weight-storage.ts).
    const dtype = storedDtype(c, method.method, name, dims);
    if (dtype === 'f32') ledger.tensor('weights', name, dims);
    else {
      const size = dims.reduce((a, b) => a * b, 1);
      ledger.bytes('weights', name, dtype === 'f16' ? halfBufferBytes(size) : nf4Bytes(size));
    }
  }
  const { trainable } = methodParameters(c, method, ledger);
  const ia3Scratch = new Set<string>();
  stepBuffers(c, method, shape, true, checkpointing, ledger);
  methodStepBuffers(c, method, N, true, ledger, ia3Scratch);
  const chunks = lmHeadChunks(c, N);
  const dispatches = stepDispatches(c, method, true, checkpointing, chunks) + 3 * trainable.length;
  optimizerBuffers(ledger, trainable, step);

  if (step.evaluation) {
    stepBuffers(c, method, shape, false, false, ledger);
    methodStepBuffers(c, method, N, false, ledger, ia3Scratch);
  }
  const evalDispatches = step.evaluation ? stepDispatches(c, method, false, false, chunks) : 0;
  ledger.bytes('workspace', 'dispatch uniforms', uniformBytesPerDispatch * (dispatches + evalDispatches));
  // The loss rows come back through a staging buffer while everything above is live.
  ledger.tensor('workspace', 'loss read-back staging', [N]);
  return { ledger, trainable, N };
}

const storedAs = (config: DecoderConfig, method: MethodSettings, dtype: 'f16' | 'nf4') =>
  [...expectedWeights(config)].some(
    ([name, dims]) => storedDtype(config, method.method, name, dims) === dtype,
  );

export function planMemory(config: DecoderConfig, method: MethodSettings, step: StepSettings): MemoryPlan {
  validatePlanSettings(method, step);
  const checkpointing = Boolean(step.gradientCheckpointing);
  const { ledger, trainable, N } = ledgerFor(config, method, step, checkpointing);
  const other = ledgerFor(config, method, step, !checkpointing).ledger;
  const activations = ledger.total('activations');
  const components = Object.fromEntries(memoryComponents.map((k) => [k, ledger.total(k)])) as Record<
    MemoryComponent,
    number
  >;
  const largest: LedgerEntry = ledger.largest();
  const total = [...expectedWeights(config).values()].reduce((n, d) => n + d.reduce((a, b) => a * b, 1), 0);
  const trainableCount = trainable.reduce((n, d) => n + d.reduce((a, b) => a * b, 1), 0);
  const plan: MemoryPlan = {
    components,
    totalBytes: ledger.total(),
    largestBuffer: { label: largest.label, bytes: largest.bytes, component: largest.component },
    activationBytes: checkpointing
      ? { withCheckpointing: activations, withoutCheckpointing: other.total('activations') }
      : { withCheckpointing: other.total('activations'), withoutCheckpointing: activations },
    parameters: {
      // Full fine-tuning trains the base weights; every other method adds its own.
      total: method.method === 'full' ? total : total + trainableCount,
      trainable: trainableCount,
    },
    rows: N,
    halfWeights: storedAs(config, method, 'f16'),
    quantizedWeights: storedAs(config, method, 'nf4'),
    settings: { method, step },
    fits: (limits) => fitOf(plan, limits),
  };
  return plan;
}
