/**
 * An encoder classifier opened from in-memory files for the studio: a base model (its own head, or a
 * fresh one for a checkpoint without) or a base model with a kept adapter folder on it (PEFT SEQ_CLS or
 * Whetstone's bottleneck folder, encoder-adapter-folder.ts). It classifies one text or pair (the softmax
 * of the logits, no dropout) and scores itself on a classification run's validation split, rebuilt from
 * the run's spec (classifier-run-data.ts) with the run's batch size and length, so the figures sit beside
 * the run's own eval events. A classification run exposes the same `ClassifierScoring` for its trained
 * model, so one function scores runs, base models and adapters alike.
 */
import type { Runtime } from '../../gpu/runtime';
import type { Label } from '../data/labels';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, type EncoderModel, maxEncoderTokens } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { type Adaptation, frozen } from '../peft/adaptation';
import type { DeviceTurns } from '../worker/device-turns';
import type { ClassificationScores, ClassifyInput, EvaluationData } from '../worker/protocol';
import { runMemory } from '../worker/run-memory';
import { pairEncoderFor } from './classifier-folder';
import { encodeClassificationSplit, readClassificationRows } from './classifier-run-data';
import type { ClassProbabilities } from './classifier-target';
import { type ClassificationExample, ClassifierEvaluator, type EvaluationResult } from './classifier-trainer';
import { adapterHeadClasses, encoderAdaptationFromFolder } from './encoder-adapter-folder';
import type { PairEncoder } from './pair-encoder';

export class ClassifierScoringError extends Error {
  override readonly name = 'ClassifierScoringError';
}

/** A classifier ready to score: its weights, tokenizer and the adaptation on it (frozen for a base model). */
export interface ClassifierScoring {
  runtime: Runtime;
  model: EncoderModel;
  encoder: PairEncoder;
  adaptation: Adaptation;
  /** The class names the head was trained on, in class-id order (a run: its data's label set). */
  labels: string[];
}

export interface ClassifierSplitScore {
  /** Mean cross-entropy per validation row. */
  loss: number;
  examples: number;
  classification: ClassificationScores;
}

const direct: DeviceTurns = (work) => work();

/** Softmax in float64 (max-shifted), so probabilities sum to 1 to rounding. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k] as number);
  const exps = Array.from({ length: logits.length }, (_, k) => Math.exp((logits[k] as number) - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The protocol's scores from an evaluation (per-class figures stay in the worker). */
export function classificationScores(
  result: EvaluationResult,
  labels: readonly Label[],
): ClassificationScores {
  return {
    accuracy: result.accuracy,
    f1: result.f1,
    f1Kind: result.f1Kind,
    confusion: result.confusion,
    labels: labels.map(String),
    count: result.count,
  };
}

/** One input as the encoder tokenizes it, cut to `maxLength` tokens. */
export function encodeInput(
  encoder: PairEncoder,
  input: ClassifyInput,
  maxLength: number,
): ClassificationExample {
  const pair = input.pair === undefined || input.pair === '' ? undefined : input.pair;
  return { ...encoder.encode(input.text, pair, maxLength), label: 0 };
}

/** A base encoder classifier, with a kept adapter folder on it when given; `release` frees its buffers. */
export async function openClassifierModel(
  shared: Runtime,
  modelFiles: Record<string, Uint8Array>,
  modelName: string,
  adapterFiles?: Record<string, Uint8Array>,
): Promise<
  ClassifierScoring & { classify(input: ClassifyInput): Promise<ClassProbabilities>; release(): number }
> {
  const memory = runMemory(shared);
  const runtime = memory.runtime;
  try {
    const files = filesFromMemory(modelFiles, modelName);
    const encoder = await pairEncoderFor(files);
    // A kept adapter's head may predict another number of classes than the checkpoint's head.
    const numLabels = adapterFiles ? adapterHeadClasses(adapterFiles) : undefined;
    const checkpoint = await openEncoderCheckpoint(files, numLabels === undefined ? {} : { numLabels });
    const model = await createEncoderModel(runtime, checkpoint);
    const adaptation = adapterFiles ? encoderAdaptationFromFolder(runtime, model, adapterFiles) : frozen;
    const labels = checkpoint.config.labels;
    // run_glue's 128 tokens, or what the model's positions hold when fewer.
    const maxLength = Math.min(128, maxEncoderTokens(model.config));
    let evaluator: Promise<ClassifierEvaluator> | undefined;
    const scoring = { runtime, model, encoder, adaptation, labels };
    return {
      ...scoring,
      async classify(input) {
        evaluator ??= ClassifierEvaluator.create(runtime, model, adaptation, {
          B: 1,
          T: maxLength,
          padId: encoder.padId,
        });
        const logits = await (await evaluator).logits([encodeInput(encoder, input, maxLength)]);
        return { labels: [...labels], probabilities: softmax(logits) };
      },
      release: () => memory.release(),
    };
  } catch (error) {
    memory.release();
    throw error;
  }
}

/**
 * Scores `scoring` on the classification run's validation split: loss, accuracy, F1 and the confusion
 * matrix. Labels map to class ids through the classifier's labels when the data's are all among them,
 * otherwise through the data's sorted label set (as the run assigned them), as `whetstone eval` does.
 */
export async function scoreClassifierOnSplit(
  scoring: ClassifierScoring,
  data: EvaluationData,
  turns: DeviceTurns = direct,
): Promise<ClassifierSplitScore> {
  if (data.spec.task !== 'classification')
    throw new ClassifierScoringError(
      `Run ${data.runId} is a language-model run; score it as a language model, not as a classifier.`,
    );
  const rows = await readClassificationRows(data.spec);
  const { model, encoder, runtime, adaptation } = scoring;
  const named = rows.labelSet.every((label) => scoring.labels.includes(String(label)));
  // The data's own label values in the classifier's order, so numeric labels still match their rows.
  const labelSet: Label[] = named
    ? scoring.labels.map((name) => rows.labelSet.find((label) => String(label) === name) ?? name)
    : rows.labelSet;
  if (labelSet.length !== model.config.K)
    throw new ClassifierScoringError(
      `Run ${data.runId}'s data has ${labelSet.length} labels but this classifier's head has ${model.config.K} classes; score a classifier trained on this label set.`,
    );
  const maxLength = Math.min(data.spec.train.seqLen, maxEncoderTokens(model.config));
  const split = encodeClassificationSplit(rows, encoder, { maxLength, seed: data.spec.train.seed, labelSet });
  if (split.validation.length === 0)
    throw new ClassifierScoringError(
      `Run ${data.runId} held no rows out for validation (its validation fraction is 0 and it has no validation set), so there is no split to score on.`,
    );
  const result = await turns(async () => {
    const evaluator = await ClassifierEvaluator.create(runtime, model, adaptation, {
      B: data.spec.train.batchSize,
      T: split.T,
      padId: encoder.padId,
    });
    return evaluator.evaluate(split.validation);
  });
  return {
    loss: result.loss,
    examples: result.count,
    classification: classificationScores(result, labelSet),
  };
}
