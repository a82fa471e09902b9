/**
 * The one training loop of encoder classifiers, shared by the studio's classification runs
 * (classifier-run.ts) and `whetstone train --task classification` (src/cli/train-classifier.ts): a
 * ClassifierTrainer built from a TrainConfig, driven one update per step event, with evaluations and
 * epoch ends as their own event, and checkpoints that resume exactly (classifier-checkpoint.ts).
 *
 * Micro-batches are drawn across epochs as the decoder Trainer draws them: an update takes the next
 * `gradAccum` micro-batches of the seeded order, running on into the next epoch's, so every update but the
 * last is whole. With `epochs` (no `steps`) the run is exactly `epochs` passes over the data:
 * ceil(epochs · micro-batches per epoch / gradAccum) updates, the last taking the micro-batches left. That
 * is the per-epoch grouping's count, epochs · ceil(micro-batches per epoch / gradAccum), whenever gradAccum
 * divides an epoch's micro-batches (always with gradAccum 1); otherwise at most one fewer per epoch
 * boundary, since no epoch ends on a short update (5 micro-batches an epoch, gradAccum 2, 3 epochs: 8
 * updates, not 9). With `steps` the order simply runs on.
 *
 * After each update: an eval event when an epoch ended during it, when `evalEvery` updates have passed,
 * or at the last update. It lists the epochs that ended (1-based) with each one's training loss: the
 * row-weighted mean loss of the updates since the previous epoch's end, an update that crosses an epoch's
 * end counted in the epoch it ends in (with gradAccum 1, exactly the epoch's mean loss). That running sum
 * is part of the checkpointed position, so a resumed run reports the same epoch losses.
 * On resume the checkpoint is refused unless the method, its settings, the rows and every update-deciding
 * setting are the same (checkClassifierResumable).
 */
import type { Runtime } from '../../gpu/runtime';
import type { CheckpointState, TrainerPosition } from '../checkpoint-state';
import { epochBatches } from '../data/order';
import type { EncoderModel } from '../models/bert';
import type { Adaptation } from '../peft/adaptation';
import { checkLoraPlusMethod, type TrainConfig, TrainConfigError } from '../train-config';
import { measuredStep, type StepMetrics } from '../trainer';
import {
  type ClassifierRunIdentity,
  checkClassifierResumable,
  classifierCheckpointState,
} from './classifier-checkpoint';
import { type ClassificationExample, ClassifierTrainer, type EvaluationResult } from './classifier-trainer';

/** An epoch that ended, 1-based, with its training loss (see the header). */
export interface EpochEnd {
  epoch: number;
  trainLoss: number;
}

/** After an update that ended an epoch, or at which an evaluation was due. */
export interface ClassifierEvalEvent {
  kind: 'eval';
  step: number;
  /** The validation split scored with the weights after this update; absent without a validation split. */
  evaluation?: EvaluationResult;
  /** The epochs that ended during this update (usually none or one). */
  epochs: EpochEnd[];
}

export type ClassifierLoopEvent = StepMetrics | ClassifierEvalEvent;

export interface ClassifierLoopSpec {
  config: TrainConfig;
  train: ClassificationExample[];
  validation: ClassificationExample[];
  /** Tokens per row (every example fits). */
  T: number;
  padId: number;
  /** What a checkpoint records of the run: the method's name and settings, the config, the rows. */
  identity: Omit<ClassifierRunIdentity, 'config' | 'train'>;
  resumeFrom?: CheckpointState;
}

export interface ClassifierLoop {
  trainer: ClassifierTrainer;
  totalSteps: number;
  counts: { trainable: number; total: number };
  /** Tokens in the validation split (what an evaluation reads). */
  validationTokens: number;
  /** The updates from where the run stands (the checkpoint's position when resumed) to the end. */
  events(signal?: AbortSignal): AsyncGenerator<ClassifierLoopEvent>;
  /** The run's state between updates. */
  checkpoint(): Promise<CheckpointState>;
}

const tokensOf = (rows: readonly ClassificationExample[]) => rows.reduce((n, e) => n + e.ids.length, 0);

/** Micro-batches per epoch, and the updates a run of `config` makes. */
export function classifierSchedule(config: TrainConfig, trainRows: number) {
  const microPerEpoch = Math.ceil(trainRows / config.batchSize);
  const totalMicro = config.steps === undefined ? microPerEpoch * config.epochs : Number.POSITIVE_INFINITY;
  const totalSteps = config.steps ?? Math.ceil(totalMicro / config.gradAccum);
  return { microPerEpoch, totalMicro, totalSteps };
}

export async function startClassifierLoop(
  runtime: Runtime,
  model: EncoderModel,
  adaptation: Adaptation,
  spec: ClassifierLoopSpec,
): Promise<ClassifierLoop> {
  const { config, train, validation } = spec;
  const run = { ...spec.identity, config, train };
  // Before any update is planned: a checkpoint of another run would continue as neither.
  if (spec.resumeFrom) checkClassifierResumable(spec.resumeFrom, run);
  checkLoraPlusMethod(config, adaptation.method);
  if (config.earlyStoppingPatience !== undefined)
    throw new TrainConfigError(
      'Early stopping is for language-model runs; a classifier run scores every epoch, and its last is what it keeps.',
    );
  const B = config.batchSize;
  const { totalMicro, totalSteps } = classifierSchedule(config, train.length);
  const trainer = await ClassifierTrainer.create(runtime, model, adaptation, {
    batchSize: B,
    gradAccum: config.gradAccum,
    T: spec.T,
    optimizer: config.optimizer,
    hyper: {
      lr: config.lr,
      betas: config.betas,
      eps: config.eps,
      weightDecay: config.weightDecay,
      maxGradNorm: config.maxGradNorm,
      ...(config.loraPlusLrRatio === undefined ? {} : { loraPlusLrRatio: config.loraPlusLrRatio }),
    },
    schedule: config.schedule,
    warmupSteps: config.warmupSteps,
    seed: config.seed,
    padId: spec.padId,
    dropout: true,
  });
  const inBase = new Set(model.params.values());
  const trainable = adaptation.trainable();
  const extra = trainable.filter((e) => !inBase.has(e.param)).reduce((n, e) => n + e.param.size, 0);
  const counts = {
    trainable: trainable.reduce((n, e) => n + e.param.size, 0),
    total: [...model.params.values()].reduce((n, p) => n + p.size, 0) + extra,
  };
  // Where the data order stands, with the current epoch's loss so far; a checkpoint saves it.
  let at: TrainerPosition = { step: 0, epoch: 0, queue: [], epochLoss: { sum: 0, rows: 0 } };
  if (spec.resumeFrom) {
    trainer.restore(spec.resumeFrom.tensors, spec.resumeFrom.position.step);
    // Checkpoints written before the epoch loss was saved start it afresh.
    at = { epochLoss: { sum: 0, rows: 0 }, ...structuredClone(spec.resumeFrom.position) };
  }
  const nextMicroBatch = () => {
    if (at.queue.length === 0)
      at.queue = epochBatches(train.length, B, at.epoch++, { shuffle: config.shuffle, seed: config.seed });
    return (at.queue.shift() as number[]).map((i) => train[i] as ClassificationExample);
  };
  // Epochs whose micro-batches are all used: the current one counts once its queue is empty.
  const epochsDone = () => (at.queue.length === 0 ? at.epoch : at.epoch - 1);

  async function* events(signal?: AbortSignal): AsyncGenerator<ClassifierLoopEvent> {
    for (let s = at.step; s < totalSteps; s++) {
      if (signal?.aborted) return;
      const doneBefore = epochsDone();
      // The last update of an epochs run takes the micro-batches left.
      const count = Math.min(config.gradAccum, totalMicro - s * config.gradAccum);
      const micro = Array.from({ length: count }, nextMicroBatch);
      const started = performance.now();
      const loss = await trainer.update(micro, totalSteps);
      const rows = micro.reduce((n, batch) => n + batch.length, 0);
      const epochLoss = at.epochLoss as { sum: number; rows: number };
      epochLoss.sum += loss * rows;
      epochLoss.rows += rows;
      at.step = s + 1;
      // Settled before the step event, so a checkpoint taken there holds the next epoch's running loss.
      const ended: EpochEnd[] = [];
      for (let e = doneBefore + 1; e <= epochsDone(); e++)
        ended.push({ epoch: e, trainLoss: epochLoss.rows === 0 ? 0 : epochLoss.sum / epochLoss.rows });
      if (ended.length > 0) at.epochLoss = { sum: 0, rows: 0 };
      const gradNorm = await trainer.gradNorm();
      const tokens = micro.reduce((n, batch) => n + tokensOf(batch), 0);
      const lr = trainer.learningRate;
      yield measuredStep(
        runtime,
        { step: s + 1, epoch: at.epoch, loss, lr, gradNorm, tokens },
        started,
        counts,
      );
      const last = s + 1 === totalSteps;
      const every = config.evalEvery > 0 && (s + 1) % config.evalEvery === 0;
      const evaluate = validation.length > 0 && (last || ended.length > 0 || every);
      if (evaluate || ended.length > 0)
        yield {
          kind: 'eval',
          step: s + 1,
          ...(evaluate ? { evaluation: await trainer.evaluate(validation) } : {}),
          epochs: ended,
        };
    }
  }

  return {
    trainer,
    totalSteps,
    counts,
    validationTokens: tokensOf(validation),
    events,
    checkpoint: async () => classifierCheckpointState(await trainer.checkpointTensors(), at, run),
  };
}
