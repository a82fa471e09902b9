/**
 * A classification RunSpec (task 'classification') as a running classifier, for the training worker: the
 * encoder checkpoint opened from the spec's in-memory files with a head sized by the data's label set,
 * the rows read, encoded and split (classifier-run-data.ts), the method built from the MethodSpec
 * (classifier-method.ts, the CLI's code), and the classifier training loop that `whetstone train --task
 * classification` runs too (classifier-loop.ts), one update per event, so the handler's device turns
 * interleave it with other runs. It follows the decoder runs' OpenedRun contract:
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
 * progress event per update; an epochs run is exactly that many passes, its last update taking the
 * micro-batches left). Gradient checkpointing is not implemented for encoders.
 */
import type { Runtime } from '../../gpu/runtime';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, maxEncoderTokens } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { validateTrainConfig } from '../train-config';
import type { ClassifyInput } from '../worker/protocol';
import type { EngineEvent, OpenedRun } from '../worker/run-engine';
import { runMemory } from '../worker/run-memory';
import type { RunSpec } from '../worker/run-spec';
import { checkClassifierResumable, classifierMethodSettings } from './classifier-checkpoint';
import { classifierFolder, folderBytes, pairEncoderFor } from './classifier-folder';
import { startClassifierLoop } from './classifier-loop';
import { checkEncoderRunMemory, encoderMethodSettings } from './classifier-memory';
import { classifierMethodFromSpec } from './classifier-method';
import { type ClassifierScoring, classificationScores, encodeInput, softmax } from './classifier-model';
import { encodeClassificationSplit, readClassificationRows } from './classifier-run-data';
import { type ClassProbabilities, TaskMismatchError } from './classifier-target';
import type { ClassificationExample } from './classifier-trainer';

export interface OpenedClassifierRun extends OpenedRun {
  /** Class probabilities of one text or pair with the weights as they stand (no dropout). */
  classify(input: ClassifyInput): Promise<ClassProbabilities>;
  /** The trained classifier, to score on a run's validation split (classifier-model.ts). */
  classifierScoring(): ClassifierScoring;
  /** The encoded validation rows and the class logits the run's evaluator gives them, for checks. */
  validationLogits(): Promise<{ rows: ClassificationExample[]; logits: Float32Array }>;
}

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
  // A checkpoint of another method or method settings, other rows or other settings is refused before
  // any upload.
  const identity = {
    method: spec.method.method,
    methodSettings: classifierMethodSettings(spec.method, checkpoint.config.dropout),
  };
  if (spec.resumeFrom) checkClassifierResumable(spec.resumeFrom, { ...identity, config, train: split.train });
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
    const loop = await startClassifierLoop(runtime, model, method.adaptation, {
      config,
      train: split.train,
      validation: split.validation,
      T: split.T,
      padId: encoder.padId,
      identity,
      ...(spec.resumeFrom ? { resumeFrom: spec.resumeFrom } : {}),
    });
    const { trainer, totalSteps, counts } = loop;
    const adaptation = method.adaptation;
    const labels = split.labelSet.map(String);

    async function* events(): AsyncGenerator<EngineEvent> {
      for await (const event of loop.events(signal)) {
        if (event.kind === 'step') yield event;
        else if (event.evaluation)
          yield {
            kind: 'eval',
            step: event.step,
            loss: event.evaluation.loss,
            tokens: loop.validationTokens,
            classification: classificationScores(event.evaluation, split.labelSet),
          };
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
      checkpoint: () => loop.checkpoint(),
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
