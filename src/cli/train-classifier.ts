/**
 * `whetstone train --task classification --model DIR --data FILE --method M --out DIR [flags]`:
 * fine-tunes a BERT, DistilBERT or RoBERTa classifier on a classification or sentence-pair file (MRPC's
 * TSV as it is: Quality, #1 String, #2 String), and writes a Hugging Face model folder (full) or the
 * method's adapter folder (classifier-method.ts: PEFT SEQ_CLS folders for lora, dora, ia3, prompt and
 * prefix with the classifier saved as modules_to_save; Whetstone's format for bottleneck adapters).
 * After every epoch it evaluates the validation split (--validation FILE or --validation-fraction X) and
 * reports loss, accuracy, F1 and the confusion matrix; with --json one JSON line per epoch and a summary.
 * Defaults follow HF's run_glue: --seq-len 128, --batch-size 32, --epochs 3, --lr 2e-5 (PEFT methods:
 * defaultLearningRate), --grad-accum 1 (N micro-batches of --batch-size rows per update),
 * linear decay, AdamW, clipping at 1. Training applies the model's dropout as HF's Trainer does
 * (hidden_dropout_prob and the classifier's; --hidden-dropout P sets both, 0 turns them off), and
 * attention-probability dropout (attention_probs_dropout_prob, inside the attention kernels;
 * --attention-dropout P sets it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDevice } from '../gpu/device/acquire-device';
import { createRuntime } from '../gpu/runtime';
import { classificationLabelSet } from '../train/classify/classification-data';
import {
  ClassifierFilesError,
  classifierFolder,
  pairEncoderFor as sharedPairEncoderFor,
} from '../train/classify/classifier-folder';
import { checkEncoderRunMemory, encoderMethodSettings } from '../train/classify/classifier-memory';
import { encodeClassificationSplit } from '../train/classify/classifier-run-data';
import { ClassifierTrainer, type EvaluationResult } from '../train/classify/classifier-trainer';
import type { PairEncoder } from '../train/classify/pair-encoder';
import type { ModelFiles } from '../train/io/model-files';
import { createEncoderModel, maxEncoderTokens } from '../train/models/bert';
import { openEncoderCheckpoint } from '../train/models/bert-checkpoint';
import {
  classifierMethodFromFlags,
  classifierMethodSpec,
  classifierMethods,
  defaultLearningRate,
} from './classifier-method';
import { readDatasetsFromFlags } from './dataset-flags';
import { numberFlag } from './load-model';
import { modelFilesFor } from './model-source';
import { memoryBudgetFromFlags } from './plan';
import { CliUsageError } from './usage-error';

export type ClassifierFlags = Partial<Record<string, string | boolean>>;

/** The model's tokenizer as a pair encoder; a folder without tokenizer.json is a usage error here. */
export async function pairEncoderFor(files: ModelFiles): Promise<PairEncoder> {
  try {
    return await sharedPairEncoderFor(files);
  } catch (error) {
    if (error instanceof ClassifierFilesError) throw new CliUsageError(error.message);
    throw error;
  }
}

/** Opens --model as an encoder classifier with `numLabels` classes (a fresh head if the checkpoint has none). */
export async function loadClassifierForCli(spec: unknown, numLabels?: number, seed = 0) {
  if (typeof spec !== 'string')
    throw new CliUsageError('--model DIR is required: a folder in Hugging Face layout, or a hub repo id.');
  const files = await modelFilesFor(spec);
  const checkpoint = await openEncoderCheckpoint(files, { ...(numLabels ? { numLabels } : {}), seed });
  const runtime = createRuntime(await acquireDevice({ label: 'whetstone-cli' }));
  const model = await createEncoderModel(runtime, checkpoint);
  return { files, checkpoint, runtime, model, encoder: await pairEncoderFor(files) };
}

export function metricsReport(result: EvaluationResult): Record<string, unknown> {
  return {
    loss: result.loss,
    accuracy: result.accuracy,
    f1: result.f1,
    f1_kind: result.f1Kind,
    confusion_matrix: result.confusion,
    rows: result.count,
  };
}

export async function runTrainClassifier(flags: ClassifierFlags): Promise<number> {
  const method = flags.method ?? 'full';
  if (typeof method !== 'string' || !classifierMethods.includes(method))
    throw new CliUsageError(
      `--task classification trains --method ${classifierMethods.join('|')}, not ${String(method)}.`,
    );
  if (typeof flags.out !== 'string') throw new CliUsageError('--out DIR is required.');
  // Checkpoints of classification runs are written by the studio's worker (classifier-checkpoint.ts);
  // the CLI's epoch loop does not write or read them, so the flags are refused rather than ignored.
  for (const flag of ['checkpoint-every', 'checkpoint-dir', 'resume'])
    if (flags[flag] !== undefined)
      throw new CliUsageError(
        `--${flag} is not supported with --task classification yet; run the classifier without it (the studio checkpoints classification runs).`,
      );
  const int = (name: string, fallback: number, min = 1) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n >= min);
  const batchSize = int('batch-size', 32);
  // Micro-batches of --batch-size rows per update, their gradients summed (HF's gradient_accumulation_steps).
  const gradAccum = int('grad-accum', 1);
  const epochs = int('epochs', 3);
  const seed = int('seed', 42, 0);
  const lr = numberFlag(flags.lr, 'lr', defaultLearningRate(method), (n) => n > 0);
  const weightDecay = numberFlag(flags['weight-decay'], 'weight-decay', 0, (n) => n >= 0);
  const warmupSteps = int('warmup-steps', 0, 0);
  const read = await readDatasetsFromFlags(flags, true);
  const skipBadRows = flags['skip-bad-rows'] === true;

  // The label set comes from the training file before the model is opened: it sizes the head.
  const labelSet = classificationLabelSet(read.dataset);
  const { files, checkpoint, runtime, model, encoder } = await loadClassifierForCli(
    flags.model,
    labelSet.length,
    seed,
  );
  // run_glue's max_seq_length 128, or the model's positions when it has fewer.
  const seqLen = int('seq-len', Math.min(128, maxEncoderTokens(model.config)), 4);
  if (seqLen > maxEncoderTokens(model.config))
    throw new CliUsageError(
      `--seq-len ${seqLen} passes the ${maxEncoderTokens(model.config)} tokens this model's positions hold.`,
    );
  // The studio's classification runs encode and split with the same function.
  const train = encodeClassificationSplit(
    {
      dataset: read.dataset,
      ...(read.validationDataset ? { validationDataset: read.validationDataset } : {}),
      labelSet,
      validationFraction: read.validationFraction,
      skipBadRows,
    },
    encoder,
    { maxLength: seqLen, seed },
  );
  const trainExamples = train.train;
  const validation = train.validation;
  if (train.truncated > 0)
    process.stderr.write(`whetstone: ${train.truncated} examples were truncated to ${seqLen} tokens.\n`);
  if (checkpoint.initialised.length > 0)
    process.stderr.write(
      `whetstone: the classification head was initialised fresh (${checkpoint.initialised.join(', ')}).\n`,
    );

  const T = train.T;
  if (flags['hidden-dropout'] !== undefined) {
    const p = numberFlag(flags['hidden-dropout'], 'hidden-dropout', 0.1, (n) => n >= 0 && n < 1);
    Object.assign(model.config.dropout, { hidden: p, classifier: p });
  }
  if (flags['attention-dropout'] !== undefined) {
    const p = numberFlag(flags['attention-dropout'], 'attention-dropout', 0.1, (n) => n >= 0 && n < 1);
    model.config.dropout.attentionProbs = p;
  }
  // Refused from the memory plan, with what to change, before the method and the steps are planned.
  checkEncoderRunMemory(
    model.config,
    encoderMethodSettings(classifierMethodSpec(method, flags)),
    {
      B: batchSize,
      T,
      gradAccum,
      dropout: true,
      initialisedHead: checkpoint.initialised,
      memoryBudgetBytes: memoryBudgetFromFlags(flags),
    },
    runtime.device.limits,
  );
  const trained = await classifierMethodFromFlags(
    runtime,
    model,
    method,
    flags,
    seed,
    checkpoint.initialised,
  );
  const adaptation = trained.adaptation;
  const steps = Math.ceil(Math.ceil(trainExamples.length / batchSize) / gradAccum) * epochs;
  const trainer = await ClassifierTrainer.create(runtime, model, adaptation, {
    batchSize,
    gradAccum,
    T,
    epochs,
    hyper: { lr, weightDecay },
    warmupRatio: steps === 0 ? 0 : warmupSteps / steps,
    seed,
    padId: encoder.padId,
    dropout: true,
  });
  const started = performance.now();
  const final = await trainer.train(trainExamples, {
    ...(validation.length > 0 ? { validation } : {}),
    onEpoch: (epoch, trainLoss, evaluation) => {
      const line = {
        epoch: epoch + 1,
        train_loss: trainLoss,
        ...(evaluation ? { eval: metricsReport(evaluation) } : {}),
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(line)}\n`);
      else
        process.stdout.write(
          `epoch ${epoch + 1}  train loss ${trainLoss.toFixed(4)}` +
            (evaluation
              ? `  eval loss ${evaluation.loss.toFixed(4)}  accuracy ${evaluation.accuracy.toFixed(4)}  f1 ${evaluation.f1.toFixed(4)}`
              : '') +
            '\n',
        );
    },
  });
  const written =
    (await trained.files(typeof flags.model === 'string' ? flags.model : null)) ??
    (await classifierFolder(runtime, model, files, train.labelSet));
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(written)) writeFileSync(join(flags.out, name), content);
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        done: true,
        method,
        out: flags.out,
        train_rows: trainExamples.length,
        validation_rows: validation.length,
        labels: train.labelSet,
        steps,
        seconds: (performance.now() - started) / 1000,
        ...(final ? { eval: metricsReport(final) } : {}),
      })}\n`,
    );
  } else process.stdout.write(`wrote ${flags.out}\n`);
  return 0;
}
