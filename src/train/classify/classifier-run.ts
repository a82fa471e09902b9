/**
 * A classification RunSpec (task 'classification') as a running classifier, for the training worker: the
 * encoder checkpoint opened from the spec's in-memory files with a head sized by the data's label set,
 * the rows read, encoded and split (classifier-run-data.ts), the method built from the MethodSpec
 * (classifier-method.ts, the CLI's code), and ClassifierTrainer driven one update per event, so the
 * handler's device turns interleave it with other runs. It follows the decoder runs' OpenedRun contract:
 * a progress event per update (loss, scheduled lr, pre-clipping gradient norm, tokens per second and the
 * arena's bytes, all measured), and an eval event with the loss and the classification scores after every
 * epoch, every `train.evalEvery` updates and at the end. It exports what `whetstone train --task
 * classification` writes: a Hugging Face folder for full fine-tuning, the method's PEFT SEQ_CLS folder
 * (head as modules_to_save) or bottleneck folder otherwise. It checkpoints and resumes as decoder runs do
 * (classifier-checkpoint.ts: trainable tensors with the head, AdamW moments, the data position; dropout
 * follows the update count), so a resumed run continues exactly. Training settings: TrainConfig's
 * optimizer, lr, betas, eps, weight decay, clipping, schedule, warmup, epochs or steps, batch size, seed
 * and shuffle; the length is min(seqLen, the model's positions); model dropout is on as HF's Trainer has
 * it; gradient accumulation (micro-batches drawn across epochs as the decoder Trainer draws them, one
 * progress event per update). Gradient checkpointing is not implemented for encoders.
 */
import type { Runtime } from '../../gpu/runtime';
import type { TrainerPosition } from '../checkpoint-state';
import { epochBatches } from '../data/order';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, maxEncoderTokens } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { validateTrainConfig } from '../train-config';
import type { ClassifyInput } from '../worker/protocol';
import type { EngineEvent, OpenedRun } from '../worker/run-engine';
import { runMemory } from '../worker/run-memory';
import type { RunSpec } from '../worker/run-spec';
import { checkClassifierResumable, classifierCheckpointState } from './classifier-checkpoint';
import { classifierFolder, folderBytes, pairEncoderFor } from './classifier-folder';
import { checkEncoderRunMemory, encoderMethodSettings } from './classifier-memory';
import { classifierMethodFromSpec } from './classifier-method';
import { type ClassifierScoring, classificationScores, encodeInput, softmax } from './classifier-model';
import { encodeClassificationSplit, readClassificationRows } from './classifier-run-data';
import { type ClassProbabilities, TaskMismatchError } from './classifier-target';
import { type ClassificationExample, ClassifierTrainer } from './classifier-trainer';

export interface OpenedClassifierRun extends OpenedRun {
  /** Class probabilities of one text or pair with the weights as they stand (no dropout). */
  classify(input: ClassifyInput): Promise<ClassProbabilities>;
  /** The trained classifier, to score on a run's validation split (classifier-model.ts). */
  classifierScoring(): ClassifierScoring;
  /** The encoded validation rows and the class logits the run's evaluator gives them, for checks. */
  validationLogits(): Promise<{ rows: ClassificationExample[]; logits: Float32Array }>;
}

const tokensOf = (rows: ClassificationExample[]) => rows.reduce((n, e) => n + e.ids.length, 0);

export async function openClassifierRun(
  shared: Runtime,
  spec: RunSpec,
  signal: AbortSignal,
): Promise<OpenedClassifierRun> {
  const config = validateTrainConfig(spec.train);
  // The label set comes from the data before the model is opened: it sizes the head.
  const rows = await readClassificationRows(spec);
  const files = filesFromMemory(spec.modelFiles, spec.modelName);
  const encoder = await pairEncoderFor(files);
  const checkpoint = await openEncoderCheckpoint(files, {
    numLabels: rows.labelSet.length,
    seed: config.seed,
  });
  const maxLength = Math.min(config.seqLen, maxEncoderTokens(checkpoint.config));
  const split = encodeClassificationSplit(rows, encoder, { maxLength, seed: config.seed });
  // A checkpoint of another method, other rows or other settings is refused before any upload.
  const run = { method: spec.method.method, config, train: split.train };
  if (spec.resumeFrom) checkClassifierResumable(spec.resumeFrom, run);
  const B = config.batchSize;
  const memory = runMemory(shared);
  const runtime = memory.runtime;
  // Refused here, from the memory plan and with what to change, before any weight is uploaded.
  checkEncoderRunMemory(
    checkpoint.config,
    encoderMethodSettings(spec.method),
    {
      B,
      T: split.T,
      optimizer: config.optimizer,
      gradAccum: config.gradAccum,
      dropout: true,
      initialisedHead: checkpoint.initialised,
      ...(config.memoryBudgetBytes ? { memoryBudgetBytes: config.memoryBudgetBytes } : {}),
    },
    runtime.device.limits,
  );
  try {
    const model = await createEncoderModel(runtime, checkpoint);
    const method = await classifierMethodFromSpec(
      runtime,
      model,
      spec.method,
      config.seed,
      checkpoint.initialised,
    );
    const adaptation = method.adaptation;
    const perEpoch = Math.ceil(Math.ceil(split.train.length / B) / config.gradAccum);
    const totalSteps = config.steps ?? perEpoch * config.epochs;
    const trainer = await ClassifierTrainer.create(runtime, model, adaptation, {
      batchSize: B,
      gradAccum: config.gradAccum,
      T: split.T,
      epochs: config.epochs,
      optimizer: config.optimizer,
      hyper: {
        lr: config.lr,
        betas: config.betas,
        eps: config.eps,
        weightDecay: config.weightDecay,
        maxGradNorm: config.maxGradNorm,
      },
      schedule: config.schedule,
      warmupSteps: config.warmupSteps,
      seed: config.seed,
      padId: encoder.padId,
      dropout: true,
    });
    const inBase = new Set(model.params.values());
    const trainable = adaptation.trainable();
    const extra = trainable.filter((e) => !inBase.has(e.param)).reduce((n, e) => n + e.param.size, 0);
    const counts = {
      trainable: trainable.reduce((n, e) => n + e.param.size, 0),
      total: [...model.params.values()].reduce((n, p) => n + p.size, 0) + extra,
    };
    const labels = split.labelSet.map(String);
    const validationTokens = tokensOf(split.validation);
    // Where the data order stands; a checkpoint saves it and a resume starts from it.
    let at: TrainerPosition = { step: 0, epoch: 0, queue: [] };
    if (spec.resumeFrom) {
      trainer.restore(spec.resumeFrom.tensors, spec.resumeFrom.position.step);
      at = structuredClone(spec.resumeFrom.position);
    }
    // Micro-batches run on across an epoch's end, as the decoder Trainer draws them.
    const nextMicroBatch = () => {
      if (at.queue.length === 0)
        at.queue = epochBatches(split.train.length, B, at.epoch++, {
          shuffle: config.shuffle,
          seed: config.seed,
        });
      return (at.queue.shift() as number[]).map((i) => split.train[i] as ClassificationExample);
    };

    async function* events(): AsyncGenerator<EngineEvent> {
      for (let s = at.step; s < totalSteps; s++) {
        if (signal.aborted) return;
        const micro = Array.from({ length: config.gradAccum }, nextMicroBatch);
        const started = performance.now();
        const loss = await trainer.update(micro, totalSteps);
        at.step = s + 1;
        const gradNorm = await trainer.gradNorm();
        const stepTimeMs = performance.now() - started;
        const tokens = micro.reduce((n, batch) => n + tokensOf(batch), 0);
        const stats = shared.arena.stats();
        yield {
          kind: 'step',
          step: s + 1,
          epoch: at.epoch,
          loss,
          lr: trainer.learningRate,
          gradNorm,
          tokens,
          stepTimeMs,
          tokensPerSecond: tokens / (stepTimeMs / 1000),
          gpuBytes: stats.liveBytes,
          peakGpuBytes: stats.peakLiveBytes,
          trainableParams: counts.trainable,
          totalParams: counts.total,
        };
        const endOfEpoch = at.queue.length === 0;
        const last = s + 1 === totalSteps;
        const every = config.evalEvery > 0 && (s + 1) % config.evalEvery === 0;
        if (split.validation.length > 0 && (last || endOfEpoch || every)) {
          const result = await trainer.evaluate(split.validation);
          yield {
            kind: 'eval',
            step: s + 1,
            loss: result.loss,
            tokens: validationTokens,
            classification: classificationScores(result, split.labelSet),
          };
        }
      }
    }

    return {
      trainer: { totalSteps, parameterCounts: () => counts },
      events: events(),
      async export() {
        const folder =
          (await method.files(spec.modelName)) ??
          (await classifierFolder(runtime, model, files, split.labelSet));
        return folderBytes(folder);
      },
      text() {
        throw new TaskMismatchError(
          'This is a classification run: it gives class probabilities, not text. Use classify instead of generate.',
        );
      },
      async checkpoint() {
        return classifierCheckpointState(await trainer.checkpointTensors(), at, run);
      },
      release: () => memory.release(),
      async classify(input) {
        const logits = await trainer.logits([encodeInput(encoder, input, split.T)]);
        return { labels: [...labels], probabilities: softmax(logits) };
      },
      classifierScoring: () => ({ runtime, model, encoder, adaptation, labels }),
      async validationLogits() {
        return { rows: split.validation, logits: await trainer.logits(split.validation) };
      },
    };
  } catch (error) {
    // A failed opening leaves nothing behind on the GPU.
    memory.release();
    throw error;
  }
}
