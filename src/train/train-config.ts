/**
 * A training run's settings, with typed defaults in one place (HF TrainingArguments' defaults where one
 * exists: AdamW, betas (0.9, 0.999), eps 1e-8, weight decay 0, max grad norm 1, linear schedule).
 * `validateTrainConfig` throws a `TrainConfigError` that names the setting.
 */

export type OptimizerKind = 'adamw' | 'sgd';

/** TRL's DPO loss_type values Whetstone trains (preference-loss.wgsl computes each). */
export const dpoLossTypes = ['sigmoid', 'hinge', 'ipo'] as const;
export type DpoLossType = (typeof dpoLossTypes)[number];
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface TrainConfig {
  optimizer: OptimizerKind;
  lr: number;
  betas: [number, number];
  eps: number;
  /** Decoupled (AdamW) or coupled (SGD); applied only to tensors of two or more dimensions. */
  weightDecay: number;
  /**
   * LoRA+ (Hayou et al. 2024): LoRA's B matrices, and every trainable vector, learn at this many times
   * `lr`, as PEFT's create_loraplus_optimizer groups them (loraplus_lr_ratio; the paper suggests 16).
   * LoRA and DoRA runs only; absent: one rate for all.
   */
  loraPlusLrRatio?: number;
  /**
   * DPO (Rafailov et al. 2023; TRL's DPOTrainer, loss_type "sigmoid") on preference pairs instead of
   * next-token cross-entropy: β is the pull towards the reference model (TRL's default 0.1). The
   * reference is the base model before training (PEFT's adapter disabled), its log-probabilities
   * computed once before the first step, as TRL's precompute_ref_log_probs does. `lossType` is TRL's
   * loss_type: 'sigmoid' (DPO's own, when absent), 'hinge' (SLiC) or 'ipo' (IPO, per-token). Absent: SFT.
   */
  preference?: { beta: number; lossType?: DpoLossType };
  /** Global gradient-norm clipping; 0 turns it off. */
  maxGradNorm: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  /** Optimizer steps; when absent, `epochs` passes over the data decide. */
  steps?: number;
  epochs: number;
  batchSize: number;
  gradAccum: number;
  seqLen: number;
  seed: number;
  shuffle: boolean;
  /** Evaluate on the validation set every this many steps (0: only at the end). */
  evalEvery: number;
  /**
   * Early stopping (early-stopping.ts; HF's EarlyStoppingCallback with load_best_model_at_end): stop
   * after this many evaluations in a row without a lower validation loss, and end on the best weights.
   * Needs evalEvery above 0 and a validation set. Absent: train every step, end on the last weights.
   */
  earlyStoppingPatience?: number;
  /**
   * Gradient checkpointing (HF's gradient_checkpointing): keep only each layer's input in the forward
   * pass and recompute the layer's activations just before its backward; less memory, one more forward.
   */
  gradientCheckpointing: boolean;
  /**
   * GPU bytes the run may hold; a run planned above it is refused before it starts (src/train/plan).
   * WebGPU does not report a GPU's memory, so when absent the planner's default applies
   * (defaultMemoryBudgetBytes, 4 GiB).
   */
  memoryBudgetBytes?: number;
}

export const defaultTrainConfig: TrainConfig = {
  optimizer: 'adamw',
  lr: 2e-4,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1,
  schedule: 'linear',
  warmupSteps: 0,
  epochs: 1,
  batchSize: 4,
  gradAccum: 1,
  seqLen: 256,
  seed: 42,
  shuffle: true,
  evalEvery: 0,
  gradientCheckpointing: false,
};

export class TrainConfigError extends Error {
  override readonly name = 'TrainConfigError';
}

export function validateTrainConfig(c: TrainConfig): TrainConfig {
  const positiveInt = (value: number | undefined, name: string) => {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new TrainConfigError(`${name} must be a positive whole number, got ${value}.`);
    }
  };
  positiveInt(c.batchSize, 'batch size');
  positiveInt(c.gradAccum, 'gradient accumulation');
  positiveInt(c.seqLen, 'sequence length');
  positiveInt(c.steps, 'steps');
  positiveInt(c.epochs, 'epochs');
  if (!(c.lr > 0 && Number.isFinite(c.lr)))
    throw new TrainConfigError(`learning rate must be positive, got ${c.lr}.`);
  if (!(c.maxGradNorm >= 0))
    throw new TrainConfigError(`max grad norm must be 0 (off) or positive, got ${c.maxGradNorm}.`);
  if (c.memoryBudgetBytes !== undefined && !(c.memoryBudgetBytes > 0))
    throw new TrainConfigError(
      `memory budget must be a positive number of bytes, got ${c.memoryBudgetBytes}.`,
    );
  if (!(c.weightDecay >= 0))
    throw new TrainConfigError(`weight decay must not be negative, got ${c.weightDecay}.`);
  if (!(Number.isInteger(c.warmupSteps) && c.warmupSteps >= 0))
    throw new TrainConfigError(`warmup steps must be 0 or more, got ${c.warmupSteps}.`);
  if (c.betas.some((b) => !(b >= 0 && b < 1)))
    throw new TrainConfigError(`betas must lie in [0, 1), got ${c.betas.join(', ')}.`);
  positiveInt(c.earlyStoppingPatience, 'early-stopping patience');
  if (c.earlyStoppingPatience !== undefined && c.evalEvery === 0)
    throw new TrainConfigError(
      'early stopping compares evaluations during the run: set how often to evaluate (every N steps) as well.',
    );
  if (c.loraPlusLrRatio !== undefined && !(Number.isFinite(c.loraPlusLrRatio) && c.loraPlusLrRatio > 0))
    throw new TrainConfigError(`the LoRA+ learning-rate ratio must be above 0, got ${c.loraPlusLrRatio}.`);
  const beta = c.preference?.beta;
  if (beta !== undefined && !(Number.isFinite(beta) && beta > 0))
    throw new TrainConfigError(`DPO's beta must be above 0, got ${beta}.`);
  const lossType = c.preference?.lossType;
  if (lossType !== undefined && !dpoLossTypes.includes(lossType))
    throw new TrainConfigError(`DPO's loss type must be sigmoid, hinge or ipo, got ${lossType}.`);
  return c;
}

/** LoRA+ sets the rate of LoRA's B matrices, so only a LoRA or DoRA run takes it. */
export function checkLoraPlusMethod(c: TrainConfig, method: string): void {
  if (c.loraPlusLrRatio !== undefined && method !== 'lora' && method !== 'dora')
    throw new TrainConfigError(
      `LoRA+ gives LoRA's B matrices their own learning rate; this run trains ${method}, which has none. Leave the LoRA+ ratio out, or train LoRA or DoRA.`,
    );
}
