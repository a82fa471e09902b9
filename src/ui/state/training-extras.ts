/**
 * The run setup's further training settings, beyond steps, batch, rates and length: gradient
 * accumulation, warmup, the schedule, weight decay, the optimizer, clipping, the seed, gradient
 * checkpointing and early stopping. Each is TrainConfig's own (HF TrainingArguments' defaults); the form keeps what was
 * typed and this reads it, naming the field of any that does not read.
 */
import type { OptimizerKind, ScheduleKind, TrainConfig } from '../../train/train-config';
import { defaultTrainConfig } from '../../train/train-config';

/** The typed fields (strings, as the rest of the form keeps them). */
export interface TrainingExtraFields {
  gradAccum: string;
  /** Evaluations without a lower validation loss before the run stops; blank: no early stopping. */
  earlyStoppingPatience: string;
  warmupSteps: string;
  weightDecay: string;
  maxGradNorm: string;
  seed: string;
}

/** The chosen options. */
export interface TrainingChoices {
  schedule: ScheduleKind;
  optimizer: OptimizerKind;
  /** Recompute each layer's activations in the backward pass (language models only). */
  gradientCheckpointing: boolean;
}

export type TrainingExtras = Pick<
  TrainConfig,
  | 'gradAccum'
  | 'warmupSteps'
  | 'weightDecay'
  | 'maxGradNorm'
  | 'seed'
  | 'schedule'
  | 'optimizer'
  | 'gradientCheckpointing'
  | 'earlyStoppingPatience'
>;

export const defaultTrainingExtraFields: TrainingExtraFields = {
  gradAccum: String(defaultTrainConfig.gradAccum),
  earlyStoppingPatience: '',
  warmupSteps: String(defaultTrainConfig.warmupSteps),
  weightDecay: String(defaultTrainConfig.weightDecay),
  maxGradNorm: String(defaultTrainConfig.maxGradNorm),
  seed: String(defaultTrainConfig.seed),
};

export const defaultTrainingChoices: TrainingChoices = {
  schedule: defaultTrainConfig.schedule,
  optimizer: defaultTrainConfig.optimizer,
  gradientCheckpointing: defaultTrainConfig.gradientCheckpointing,
};

/** Reads one field as a number, recording a problem under its name (run-setup.ts's reader). */
export type ReadNumber = (field: keyof TrainingExtraFields, check: (n: number) => string | null) => number;

/** A field's check: a whole number of at least `min` (run-setup.ts's fields use it too). */
export const wholeAtLeast = (min: number) => (n: number) =>
  Number.isInteger(n) && n >= min ? null : `Enter a whole number of at least ${min}.`;
const notNegative = (what: string) => (n: number) => (n >= 0 ? null : `${what} must not be negative.`);

export function readTrainingExtras(
  setup: TrainingChoices & { fields: TrainingExtraFields },
  number: ReadNumber,
  /**
   * Encoder classifiers have neither gradient checkpointing nor early stopping: their runs train
   * without them whatever the form says.
   */
  languageModel: boolean,
): TrainingExtras {
  const patience = setup.fields.earlyStoppingPatience.trim();
  return {
    ...(languageModel && patience !== ''
      ? { earlyStoppingPatience: number('earlyStoppingPatience', wholeAtLeast(1)) }
      : {}),
    gradAccum: number('gradAccum', wholeAtLeast(1)),
    warmupSteps: number('warmupSteps', wholeAtLeast(0)),
    weightDecay: number('weightDecay', notNegative('Weight decay')),
    maxGradNorm: number('maxGradNorm', notNegative('The clipping norm')),
    seed: number('seed', wholeAtLeast(0)),
    schedule: setup.schedule,
    optimizer: setup.optimizer,
    gradientCheckpointing: languageModel && setup.gradientCheckpointing,
  };
}
