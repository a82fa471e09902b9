/**
 * Does a memory plan fit a device? WebGPU caps each buffer (maxStorageBufferBindingSize, maxBufferSize)
 * but does not say how much memory the GPU has, so the total is checked against a budget the person
 * sets (`--memory-budget`, the studio's setting), by default `defaultMemoryBudgetBytes`. When a plan
 * does not fit, the advice names the changes that would shrink it, largest saving first.
 */
import { ModelTooLargeError } from '../buffer-limits';
import type { MemoryPlan } from './memory-plan';

/**
 * 4 GiB: what a browser tab can expect of an integrated or entry-level GPU. Raise it for a larger
 * card; the run's peak is measured and shown either way.
 */
export const defaultMemoryBudgetBytes = 4 * 2 ** 30;

export interface MemoryLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Total bytes the run may hold on the GPU; `defaultMemoryBudgetBytes` when absent. */
  memoryBudgetBytes?: number;
}

export interface FitResult {
  fits: boolean;
  /** Why not, and what to change; empty when it fits. */
  problems: string[];
  advice: string[];
}

/** A run refused before it starts because its memory plan does not fit. */
export class MemoryPlanError extends ModelTooLargeError {
  constructor(
    message: string,
    readonly plan: MemoryPlan,
    readonly fit: FitResult,
  ) {
    super(message);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function adviceFor(plan: MemoryPlan, overBudget: boolean, bufferTooLarge: boolean): string[] {
  const { method, step } = plan.settings;
  const c = plan.components;
  const advice: string[] = [];
  // A weight (the embedding table) over the per-buffer limit: no setting of the run shrinks it.
  if (bufferTooLarge && ['weights', 'adapter'].includes(plan.largestBuffer.component))
    advice.push(
      `choose a smaller model (its ${plan.largestBuffer.label} alone is over the per-buffer limit)`,
    );
  const perRow = c.activations + c.logits;
  if (!step.gradientCheckpointing && plan.activationBytes.withoutCheckpointing > 0) {
    const saved = plan.activationBytes.withoutCheckpointing - plan.activationBytes.withCheckpointing;
    if (overBudget && saved > 0)
      advice.push(`turn on gradient checkpointing (saves about ${formatBytes(saved)})`);
  }
  const stepBufferTooLarge = bufferTooLarge && !['weights', 'adapter'].includes(plan.largestBuffer.component);
  if ((overBudget || stepBufferTooLarge) && (step.batchSize > 1 || step.seqLen > 8))
    advice.push(
      `lower the batch size (${step.batchSize} now) or the sequence length (${step.seqLen} now); ` +
        `activations and logits (${formatBytes(perRow)}) grow with both` +
        (step.batchSize > 1 ? ', and gradient accumulation keeps the effective batch' : ''),
    );
  if (overBudget && method.method === 'full')
    advice.push(
      `train LoRA instead of full fine-tuning (saves most of the ${formatBytes(c.gradients + c.optimizer)} of gradients and optimizer state)`,
    );
  // Frozen weights that dominate a PEFT run shrink most by quantizing them (QLoRA).
  if (overBudget && method.method !== 'full' && !plan.quantizedWeights && c.weights > plan.totalBytes / 3)
    advice.push(
      `quantize the frozen base to 4-bit NF4, as QLoRA does (its layer matrices then take 4.5 bits a weight of the ${formatBytes(c.weights)} of weights)`,
    );
  if (overBudget && (step.optimizer ?? 'adamw') === 'adamw' && c.optimizer > c.weights / 4)
    advice.push(`use SGD instead of AdamW (saves ${formatBytes(c.optimizer)} of optimizer state)`);
  if (overBudget && !advice.some((a) => a.startsWith('choose a smaller model')))
    advice.push('or choose a smaller model');
  return advice;
}

export function fitOf(plan: MemoryPlan, limits: MemoryLimits): FitResult {
  const budget = limits.memoryBudgetBytes ?? defaultMemoryBudgetBytes;
  const perBuffer = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const problems: string[] = [];
  if (plan.largestBuffer.bytes > perBuffer)
    problems.push(
      `its largest buffer (${plan.largestBuffer.label}, ${formatBytes(plan.largestBuffer.bytes)}) is over ` +
        `this GPU's ${formatBytes(perBuffer)} per buffer`,
    );
  const bufferTooLarge = plan.largestBuffer.bytes > perBuffer;
  const overBudget = plan.totalBytes > budget;
  if (overBudget)
    problems.push(
      `it needs about ${formatBytes(plan.totalBytes)} of GPU memory (an estimate), over the ` +
        `${formatBytes(budget)} budget`,
    );
  return {
    fits: problems.length === 0,
    problems,
    advice: problems.length ? adviceFor(plan, overBudget, bufferTooLarge) : [],
  };
}

/** Throws a MemoryPlanError (a ModelTooLargeError) whose message says what to change; else returns. */
export function assertPlanFits(plan: MemoryPlan, limits: MemoryLimits): void {
  const fit = plan.fits(limits);
  if (fit.fits) return;
  const m = plan.settings.method.method;
  throw new MemoryPlanError(
    `This ${m} run does not fit: ${fit.problems.join('; and ')}. To fit, ${fit.advice.join('; ')}. ` +
      'The budget is --memory-budget (or the memory budget setting) if this GPU has more.',
    plan,
    fit,
  );
}
