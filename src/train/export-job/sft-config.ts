/**
 * The run's training settings as TRL `SFTConfig` keyword arguments (SFTConfig extends transformers'
 * TrainingArguments). One entry per setting, so the export tests can read them back and compare:
 *   optimizer adamw → optim "adamw_torch" (torch.optim.AdamW, decoupled decay), sgd → "sgd"
 *     (torch.optim.SGD, momentum 0, coupled decay: Whetstone's SGD); betas, eps, weight decay as given;
 *   schedule constant → "constant_with_warmup" (HF's "constant" would ignore warmup; Whetstone's does
 *     not), linear → "linear", cosine → "cosine", each with warmup_steps;
 *   steps → max_steps, or epochs → num_train_epochs; batch size per device; gradient accumulation;
 *   sequence length → max_length (TRL's name since 0.20; was max_seq_length), truncation keeps the start;
 *   max grad norm (0: no clipping, in both); seed and data_seed; shuffle off → sequential sampling;
 *   prompt masking → completion_only_loss for prompt-completion data (conversations carry their own
 *     labels, see train-script.ts); packing → TRL's "wrapped" packing, which is Whetstone's;
 *   evalEvery → eval_steps, with a validation set; early stopping → a checkpoint at every evaluation and
 *     the best loaded back at the end (early-stopping.ts).
 * Weight decay: HF skips biases and norm weights by name; Whetstone skips every tensor under two
 * dimensions. They differ only for DoRA's magnitude vector (decayed by HF), and only with decay above 0.
 */
import type { TrainConfig } from '../train-config';
import { earlyStoppingKwargs } from './early-stopping';
import { float, type PythonJson } from './python-literal';
import type { RunDataConfig } from './run-config';

export type DataShape = 'text' | 'prompt-completion' | 'conversation';

export const hfScheduleName: Record<TrainConfig['schedule'], string> = {
  constant: 'constant_with_warmup',
  linear: 'linear',
  cosine: 'cosine',
};

export const hfOptimizerName: Record<TrainConfig['optimizer'], string> = { adamw: 'adamw_torch', sgd: 'sgd' };

export interface SftKwargsInput {
  training: TrainConfig;
  data: Pick<RunDataConfig, 'maskPrompt' | 'packing'>;
  shape: DataShape;
  hasValidation: boolean;
}

export function sftKwargs({
  training: t,
  data,
  shape,
  hasValidation,
}: SftKwargsInput): Record<string, PythonJson> {
  const evaluateEvery = hasValidation && t.evalEvery > 0;
  return {
    learning_rate: float(t.lr),
    optim: hfOptimizerName[t.optimizer],
    adam_beta1: float(t.betas[0]),
    adam_beta2: float(t.betas[1]),
    adam_epsilon: float(t.eps),
    weight_decay: float(t.weightDecay),
    max_grad_norm: float(t.maxGradNorm),
    lr_scheduler_type: hfScheduleName[t.schedule],
    warmup_steps: t.warmupSteps,
    ...(t.steps === undefined ? { num_train_epochs: float(t.epochs) } : { max_steps: t.steps }),
    per_device_train_batch_size: t.batchSize,
    per_device_eval_batch_size: t.batchSize,
    gradient_accumulation_steps: t.gradAccum,
    max_length: t.seqLen,
    truncation_mode: 'keep_start',
    packing: data.packing,
    ...(data.packing ? { packing_strategy: 'wrapped' } : {}),
    completion_only_loss: shape === 'prompt-completion' ? data.maskPrompt : false,
    seed: t.seed,
    data_seed: t.seed,
    train_sampling_strategy: t.shuffle ? 'random' : 'sequential',
    gradient_checkpointing: t.gradientCheckpointing,
    eval_strategy: evaluateEvery ? 'steps' : 'no',
    ...(evaluateEvery ? { eval_steps: t.evalEvery, ...earlyStoppingKwargs(t) } : {}),
    logging_steps: 1,
  };
}
