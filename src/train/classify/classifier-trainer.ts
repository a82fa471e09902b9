/**
 * Fine-tunes an encoder classifier: seeded shuffled batches of encoded examples through one recorded
 * forward+backward step (classifier-step.ts) and one recorded optimizer step (AdamW or SGD, clipping,
 * HF's linear schedule with warmup), and evaluation that reports the loss with accuracy, F1 and the
 * confusion matrix (metrics/classification.ts) on every call.
 * Every batch has the same [B, T] shape, so the steps are planned once: rows are right-padded to T and a
 * short last batch is filled with ignored rows (label −100: no loss, no gradient), and the gradient is the
 * mean over the batch's real rows, as HF's Trainer computes it.
 * Gradient accumulation (`gradAccum` micro-batches per update) sums the micro-batches' gradients into
 * their own buffers, each scaled by 1 / (the real rows of the whole update), as the decoder Trainer does
 * with label tokens: the update equals one batch of all those rows. Dropout masks are drawn per
 * micro-batch (number update · gradAccum + m), so they follow the update count and a resumed run
 * (classifier-checkpoint.ts) draws the same ones.
 *
 * Dimension letters: B rows per batch, T tokens per row, K classes.
 */

import { add } from '../../gpu/kernels/add/add';
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, type Tensor } from '../../gpu/tensor';
import { argmaxRows, type ClassificationMetrics, classificationMetrics } from '../metrics/classification';
import { type EncoderModel, maxEncoderTokens } from '../models/bert';
import {
  defaultOptimizerHyperparameters,
  GpuOptimizer,
  type OptimizerHyperparameters,
  type OptimizerKind,
} from '../optim/optimizer';
import { learningRateMultiplier, type ScheduleKind } from '../optim/schedule';
import type { Adaptation, TrainableEntry } from '../peft/adaptation';
import {
  type CheckpointTensors,
  downloadTrainingTensors,
  uploadTrainingTensors,
} from './classifier-checkpoint';
import { type ClassificationBatch, ClassifierStep } from './classifier-step';
import { evalBatchSize } from './eval-batch';

/** One encoded example: token ids and types (specials included), and its class. */
export interface ClassificationExample {
  ids: number[];
  tokenTypes: number[];
  label: number;
}

export interface ClassifierTrainOptions {
  batchSize: number;
  /** Micro-batches of `batchSize` rows per update (default 1), their gradients summed. */
  gradAccum?: number;
  /** Tokens per row; examples must fit (encode them with this maxLength). */
  T: number;
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
    private readonly runtime: Runtime,
    readonly model: EncoderModel,
    private readonly options: ClassifierTrainOptions,
    private readonly trainStep: ClassifierStep,
    private readonly evaluator: ClassifierEvaluator,
    private readonly optimizer: GpuOptimizer,
    private readonly optimizerStep: RecordedStep,
    readonly adaptation: Adaptation,
    /** With gradient accumulation: the summed gradients and the step that adds a micro-batch's to them. */
    private readonly accumulation?: { sums: Tensor[]; addGrads: RecordedStep },
  ) {}

  static async create(
    runtime: Runtime,
    model: EncoderModel,
    adaptation: Adaptation,
    options: ClassifierTrainOptions,
  ): Promise<ClassifierTrainer> {
    const { batchSize: B, T } = options;
    checkShape(model, B, T);
    const gradAccum = options.gradAccum ?? 1;
    if (!(Number.isInteger(gradAccum) && gradAccum >= 1))
      throw new ClassifierTrainError(
        `Gradient accumulation must be a whole number of micro-batches, 1 or more; got ${gradAccum}.`,
      );
    const trainStep = await ClassifierStep.plan(
      runtime,
      model,
      { B, T },
      { adaptation, backward: true, ...(options.dropout ? { dropoutSeed: options.seed ?? 0 } : {}) },
    );
    const evaluator = await ClassifierEvaluator.create(runtime, model, adaptation, {
      B: evalBatchSize(B),
      T,
      padId: options.padId,
    });
    const hyper = { ...defaultOptimizerHyperparameters, ...options.hyper };
    const entries = adaptation.trainable();
    const accumulation = gradAccum > 1 ? await accumulated(runtime, entries) : undefined;
    const optimizer = await GpuOptimizer.create(
      runtime,
      accumulation?.entries ?? entries,
      options.optimizer ?? 'adamw',
      hyper,
    );
    const optimizerStep = new RecordedStep(runtime, 'classifier optimizer step', optimizer.dispatches());
    return new ClassifierTrainer(
      runtime,
      model,
      options,
      trainStep,
      evaluator,
      optimizer,
      optimizerStep,
      adaptation,
      accumulation,
    );
  }

  /** One update on up to B examples; returns the batch's mean loss. */
  step(examples: ClassificationExample[], totalSteps: number): Promise<number> {
    return this.update([examples], totalSteps);
  }

  /**
   * One update on up to gradAccum micro-batches of up to B examples each, their gradients summed and
   * scaled by 1 / (all their rows); returns the mean loss over those rows.
   */
  async update(micro: ClassificationExample[][], totalSteps: number): Promise<number> {
    const { batchSize: B, T, padId } = this.options;
    const gradAccum = this.options.gradAccum ?? 1;
    if (micro.length < 1 || micro.length > gradAccum)
      throw new ClassifierTrainError(
        `An update takes 1 to ${gradAccum} micro-batches (the gradient accumulation), got ${micro.length}.`,
      );
    const rows = micro.reduce((n, m) => n + m.length, 0);
    if (this.accumulation) for (const sum of this.accumulation.sums) this.clear(sum);
    let lossSum = 0;
    for (const [m, examples] of micro.entries()) {
      // Dropout masks (the model's and LoRA's) are drawn per micro-batch.
      const draw = this.updates * gradAccum + m;
      (this.adaptation as Partial<{ setStep(step: number): void }>).setStep?.(draw);
      this.trainStep.setStep(draw);
      this.trainStep.run(padBatch(examples, B, T, padId), { normalizeBy: rows });
      this.accumulation?.addGrads.replay();
      const losses = await this.trainStep.rowLosses();
      lossSum += losses.slice(0, examples.length).reduce((a, b) => a + b, 0);
    }
    const warmupSteps = this.options.warmupSteps ?? Math.floor((this.options.warmupRatio ?? 0) * totalSteps);
    const multiplier = learningRateMultiplier(this.options.schedule ?? 'linear', this.updates, {
      warmupSteps,
      totalSteps,
    });
    this.updates += 1;
    this.lastLr = this.optimizer.hyper.lr * multiplier;
    this.optimizer.setStep(this.updates, this.lastLr);
    this.optimizerStep.replay();
    return rows === 0 ? 0 : lossSum / rows;
  }

  /** Updates done; the optimizer's step count and the dropout masks follow it. */
  get updatesDone(): number {
    return this.updates;
  }

  /** The trainable tensors and the optimizer's moments, downloaded (call between updates). */
  checkpointTensors(): Promise<CheckpointTensors> {
    return downloadTrainingTensors(this.runtime, this.adaptation.trainable(), this.optimizer.state());
  }

  /** Puts a checkpoint's tensors and moments back and continues after its `updates` updates. */
  restore(tensors: CheckpointTensors, updates: number): void {
    uploadTrainingTensors(this.runtime, this.adaptation.trainable(), this.optimizer.state(), tensors);
    this.updates = updates;
  }

  private clear(tensor: Tensor): void {
    const encoder = this.runtime.device.createCommandEncoder({ label: `clear ${tensor.label}` });
    encoder.clearBuffer(tensor.buffer);
    this.runtime.device.queue.submit([encoder.finish()]);
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

/** Buffers the micro-batches' gradients are summed into, and the step that adds one micro-batch's. */
async function accumulated(runtime: Runtime, entries: TrainableEntry[]) {
  const sums = entries.map((e) => createTensor(runtime.arena, `${e.name} accumulated grad`, e.grad.shape));
  const adds = await Promise.all(
    entries.map((e, i) => add(runtime, { b: e.grad, out: sums[i] as Tensor, accumulate: true })),
  );
  return {
    sums,
    addGrads: new RecordedStep(runtime, 'accumulate classifier gradients', adds),
    entries: entries.map((e, i) => ({ ...e, grad: sums[i] as Tensor })),
  };
}
