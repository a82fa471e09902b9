/**
 * Fine-tunes an encoder classifier: seeded shuffled batches of encoded examples through one recorded
 * forward+backward step (classifier-step.ts) and one recorded optimizer step (AdamW or SGD, clipping,
 * HF's linear schedule with warmup), and evaluation that reports the loss with accuracy, F1 and the
 * confusion matrix (metrics/classification.ts) on every call.
 * Every batch has the same [B, T] shape, so the steps are planned once: rows are right-padded to T and a
 * short last batch is filled with ignored rows (label −100: no loss, no gradient), and the gradient is the
 * mean over the batch's real rows, as HF's Trainer computes it.
 *
 * Dimension letters: B rows per batch, T tokens per row, K classes.
 */
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { epochBatches } from '../data/order';
import { argmaxRows, type ClassificationMetrics, classificationMetrics } from '../metrics/classification';
import { type EncoderModel, maxEncoderTokens } from '../models/bert';
import {
  defaultOptimizerHyperparameters,
  GpuOptimizer,
  type OptimizerHyperparameters,
  type OptimizerKind,
} from '../optim/optimizer';
import { learningRateMultiplier, type ScheduleKind } from '../optim/schedule';
import type { Adaptation } from '../peft/adaptation';
import { type ClassificationBatch, ClassifierStep } from './classifier-step';

/** One encoded example: token ids and types (specials included), and its class. */
export interface ClassificationExample {
  ids: number[];
  tokenTypes: number[];
  label: number;
}

export interface ClassifierTrainOptions {
  batchSize: number;
  /** Tokens per row; examples must fit (encode them with this maxLength). */
  T: number;
  epochs: number;
  optimizer?: OptimizerKind;
  hyper?: Partial<OptimizerHyperparameters>;
  schedule?: ScheduleKind;
  /** Fraction of the updates spent warming up (HF warmup_ratio). */
  warmupRatio?: number;
  /** Updates spent warming up (HF warmup_steps); when given, it replaces warmupRatio. */
  warmupSteps?: number;
  seed?: number;
  /** The pad token id of the tokenizer. */
  padId: number;
  /**
   * Train with the model's dropout (config.dropout, as HF's model.train()), masks seeded by `seed` and
   * drawn afresh each update. Off by default; evaluation never drops.
   */
  dropout?: boolean;
}

export interface EvaluationResult extends ClassificationMetrics {
  loss: number;
}

export class ClassifierTrainError extends Error {
  override readonly name = 'ClassifierTrainError';
}

/** Right-pads examples into a [B, T] batch; missing rows are ignored rows (label −100). */
export function padBatch(
  examples: ClassificationExample[],
  B: number,
  T: number,
  padId: number,
): ClassificationBatch {
  const batch: ClassificationBatch = { ids: [], tokenTypes: [], attentionMask: [], labels: [] };
  for (let b = 0; b < B; b++) {
    const e = examples[b];
    if (e && e.ids.length > T)
      throw new ClassifierTrainError(
        `An example has ${e.ids.length} tokens, more than T = ${T}; truncate it when encoding.`,
      );
    const ids = e?.ids ?? [padId];
    const fill = T - ids.length;
    batch.ids.push([...ids, ...Array(fill).fill(padId)]);
    batch.tokenTypes.push([...(e?.tokenTypes ?? [0]), ...Array(fill).fill(0)]);
    // An ignored row still sees one key, so its attention has something to normalise over.
    batch.attentionMask.push([...ids.map(() => 1), ...Array(fill).fill(0)]);
    batch.labels.push(e?.label ?? -100);
  }
  return batch;
}

/** Evaluation alone: a forward-only step, planned once for [B, T]. */
export class ClassifierEvaluator {
  private constructor(
    private readonly model: EncoderModel,
    private readonly shape: { B: number; T: number; padId: number },
    private readonly step: ClassifierStep,
  ) {}

  static async create(
    runtime: Runtime,
    model: EncoderModel,
    adaptation: Adaptation,
    shape: { B: number; T: number; padId: number },
  ): Promise<ClassifierEvaluator> {
    checkShape(model, shape.B, shape.T);
    return new ClassifierEvaluator(
      model,
      shape,
      await ClassifierStep.plan(runtime, model, shape, { adaptation }),
    );
  }

  /** Loss (mean over examples), accuracy, F1 and the confusion matrix, with the current weights. */
  async evaluate(examples: ClassificationExample[]): Promise<EvaluationResult> {
    if (examples.length === 0) throw new ClassifierTrainError('There are no examples to evaluate.');
    const { B, T, padId } = this.shape;
    const K = this.model.config.K;
    let lossSum = 0;
    const predicted: number[] = [];
    for (let start = 0; start < examples.length; start += B) {
      const chunk = examples.slice(start, start + B);
      this.step.run(padBatch(chunk, B, T, padId), { normalizeBy: chunk.length });
      const rows = await this.step.rowLosses();
      lossSum += rows.slice(0, chunk.length).reduce((a, b) => a + b, 0);
      predicted.push(...argmaxRows((await this.step.readLogits()).subarray(0, chunk.length * K), K));
    }
    const metrics = classificationMetrics(
      examples.map((e) => e.label),
      predicted,
      K,
    );
    return { loss: lossSum / examples.length, ...metrics };
  }

  /** The logits [n, K] of `examples` (no dropout), in their order; labels are not read. */
  async logits(examples: ClassificationExample[]): Promise<Float32Array> {
    const { B, T, padId } = this.shape;
    const K = this.model.config.K;
    const out = new Float32Array(examples.length * K);
    for (let start = 0; start < examples.length; start += B) {
      const chunk = examples.slice(start, start + B).map((e) => ({ ...e, label: 0 }));
      this.step.run(padBatch(chunk, B, T, padId), { normalizeBy: chunk.length });
      out.set((await this.step.readLogits()).subarray(0, chunk.length * K), start * K);
    }
    return out;
  }
}

function checkShape(model: EncoderModel, B: number, T: number): void {
  if (!(Number.isInteger(B) && B > 0))
    throw new ClassifierTrainError(`Batch size must be a positive integer, got ${B}.`);
  const maxT = maxEncoderTokens(model.config);
  if (!(Number.isInteger(T) && T > 1 && T <= maxT))
    throw new ClassifierTrainError(
      `T must be an integer in [2, ${maxT}] (what the model's positions hold), got ${T}.`,
    );
}

export class ClassifierTrainer {
  private updates = 0;
  /** The scheduled learning rate of the last update. */
  private lastLr = 0;

  private constructor(
    readonly model: EncoderModel,
    private readonly options: ClassifierTrainOptions,
    private readonly trainStep: ClassifierStep,
    private readonly evaluator: ClassifierEvaluator,
    private readonly optimizer: GpuOptimizer,
    private readonly optimizerStep: RecordedStep,
    readonly adaptation: Adaptation,
  ) {}

  static async create(
    runtime: Runtime,
    model: EncoderModel,
    adaptation: Adaptation,
    options: ClassifierTrainOptions,
  ): Promise<ClassifierTrainer> {
    const { batchSize: B, T } = options;
    checkShape(model, B, T);
    const trainStep = await ClassifierStep.plan(
      runtime,
      model,
      { B, T },
      { adaptation, backward: true, ...(options.dropout ? { dropoutSeed: options.seed ?? 0 } : {}) },
    );
    const evaluator = await ClassifierEvaluator.create(runtime, model, adaptation, {
      B,
      T,
      padId: options.padId,
    });
    const hyper = { ...defaultOptimizerHyperparameters, ...options.hyper };
    const optimizer = await GpuOptimizer.create(
      runtime,
      adaptation.trainable(),
      options.optimizer ?? 'adamw',
      hyper,
    );
    const optimizerStep = new RecordedStep(runtime, 'classifier optimizer step', optimizer.dispatches());
    return new ClassifierTrainer(model, options, trainStep, evaluator, optimizer, optimizerStep, adaptation);
  }

  /** Updates per epoch for `count` training examples. */
  stepsPerEpoch(count: number): number {
    return Math.ceil(count / this.options.batchSize);
  }

  /** One update on up to B examples; returns the batch's mean loss. */
  async step(examples: ClassificationExample[], totalSteps: number): Promise<number> {
    const { batchSize: B, T, padId } = this.options;
    const batch = padBatch(examples, B, T, padId);
    // Dropout masks (LoRA dropout) are drawn per update.
    (this.adaptation as Partial<{ setStep(step: number): void }>).setStep?.(this.updates);
    this.trainStep.setStep(this.updates);
    this.trainStep.run(batch, { normalizeBy: examples.length });
    const warmupSteps = this.options.warmupSteps ?? Math.floor((this.options.warmupRatio ?? 0) * totalSteps);
    const multiplier = learningRateMultiplier(this.options.schedule ?? 'linear', this.updates, {
      warmupSteps,
      totalSteps,
    });
    this.updates += 1;
    this.lastLr = this.optimizer.hyper.lr * multiplier;
    this.optimizer.setStep(this.updates, this.lastLr);
    this.optimizerStep.replay();
    const rows = await this.trainStep.rowLosses();
    return rows.slice(0, examples.length).reduce((a, b) => a + b, 0) / examples.length;
  }

  /** Trains for the configured epochs; `onEpoch` gets the mean training loss and, when given, the evaluation. */
  async train(
    train: ClassificationExample[],
    options: {
      validation?: ClassificationExample[];
      onEpoch?: (epoch: number, trainLoss: number, evaluation?: EvaluationResult) => void;
    } = {},
  ): Promise<EvaluationResult | undefined> {
    if (train.length === 0) throw new ClassifierTrainError('There are no training examples.');
    const totalSteps = this.stepsPerEpoch(train.length) * this.options.epochs;
    let last: EvaluationResult | undefined;
    for (let epoch = 0; epoch < this.options.epochs; epoch++) {
      let sum = 0;
      const batches = epochBatches(train.length, this.options.batchSize, epoch, {
        shuffle: true,
        seed: this.options.seed ?? 0,
      });
      for (const indices of batches) {
        const loss = await this.step(
          indices.map((i) => train[i] as ClassificationExample),
          totalSteps,
        );
        sum += loss * indices.length;
      }
      last = options.validation ? await this.evaluate(options.validation) : undefined;
      options.onEpoch?.(epoch, sum / train.length, last);
    }
    return last;
  }

  /** Loss (mean over examples), accuracy, F1 and the confusion matrix, with the current weights. */
  evaluate(examples: ClassificationExample[]): Promise<EvaluationResult> {
    return this.evaluator.evaluate(examples);
  }

  /** The logits [n, K] of `examples` with the current weights (no dropout). */
  logits(examples: ClassificationExample[]): Promise<Float32Array> {
    return this.evaluator.logits(examples);
  }

  /** The learning rate the last update used (after warmup and decay). */
  get learningRate(): number {
    return this.lastLr;
  }

  /** The last update's global gradient norm before clipping, downloaded. */
  gradNorm(): Promise<number> {
    return this.optimizer.readGradNorm();
  }
}
