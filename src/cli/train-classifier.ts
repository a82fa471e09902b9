/**
 * `whetstone train --task classification --model DIR --data FILE --method M --out DIR [flags]`:
 * fine-tunes a BERT, DistilBERT or RoBERTa classifier on a classification or sentence-pair file (MRPC's
 * TSV as it is: Quality, #1 String, #2 String), and writes a Hugging Face model folder (full) or the
 * method's adapter folder (classifier-method.ts: PEFT SEQ_CLS folders for lora, dora, ia3, prompt and
 * prefix with the classifier saved as modules_to_save; Whetstone's format for bottleneck adapters).
 * It trains with the studio's classification loop (src/train/classify/classifier-loop.ts), so the CLI
 * keeps no loop of its own. After every epoch it evaluates the validation split (--validation FILE or
 * --validation-fraction X) and reports the epoch's training loss with the eval loss, accuracy, F1 and the
 * confusion matrix; with --json one JSON line per update (step, loss, lr, grad_norm, ... as the decoder
 * CLI), one per epoch ({epoch, train_loss, eval}), one per checkpoint and a summary.
 * Defaults follow HF's run_glue: --seq-len 128, --batch-size 32, --epochs 3, --lr 2e-5 (PEFT methods:
 * defaultLearningRate), --grad-accum 1 (N micro-batches of --batch-size rows per update),
 * linear decay, AdamW, clipping at 1. Gradient accumulation draws its micro-batches across epochs, as the
 * decoder Trainer does (it used to group them within each epoch): --epochs N is still exactly N passes
 * over the data, in ceil(N · micro-batches per epoch / grad-accum) updates, the last taking the
 * micro-batches left. That equals the per-epoch count N · ceil(micro-batches per epoch / grad-accum)
 * when grad-accum divides an epoch's micro-batches (always with --grad-accum 1), and is otherwise at most
 * one fewer per epoch boundary, since no epoch ends on a short update (5 micro-batches an epoch,
 * --grad-accum 2, --epochs 3: 8 updates, not 9); an update that crosses an epoch's end counts in the training
 * loss of the epoch it ends in. Training applies the model's dropout as HF's Trainer does
 * (hidden_dropout_prob and the classifier's; --hidden-dropout P sets both, 0 turns them off), and
 * attention-probability dropout (attention_probs_dropout_prob, inside the attention kernels;
 * --attention-dropout P sets it).
 * --checkpoint-every N and --resume [DIR] work as for decoders (train.ts, checkpoint-folder.ts): the
 * folders checkpoint-<step> under --checkpoint-dir (default <out>-checkpoints) hold the trainable tensors
 * with the head, AdamW's moments, the data position and the method's settings; a resume with the same
 * flags continues exactly, and one with other training or method flags is refused, naming them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireDevice } from '../gpu/device/acquire-device';
import { createRuntime } from '../gpu/runtime';
import { classificationLabelSet } from '../train/classify/classification-data';
import { checkClassifierResumable, classifierMethodSettings } from '../train/classify/classifier-checkpoint';
import {
  ClassifierFilesError,
  classifierFolder,
  pairEncoderFor as sharedPairEncoderFor,
} from '../train/classify/classifier-folder';
import { startClassifierLoop } from '../train/classify/classifier-loop';
import { checkEncoderRunMemory, encoderMethodSettings } from '../train/classify/classifier-memory';
import { classifierMethodFromSpec } from '../train/classify/classifier-method';
import { encodeClassificationSplit } from '../train/classify/classifier-run-data';
import type { EvaluationResult } from '../train/classify/classifier-trainer';
import type { PairEncoder } from '../train/classify/pair-encoder';
import { readLatestCheckpoint, writeCheckpointFolder } from '../train/io/checkpoint-folder';
import type { ModelFiles } from '../train/io/model-files';
import { createEncoderModel, maxEncoderTokens } from '../train/models/bert';
import { openEncoderCheckpoint } from '../train/models/bert-checkpoint';
import { defaultTrainConfig, validateTrainConfig } from '../train/train-config';
import { classifierMethodSpec, classifierMethods, defaultLearningRate } from './classifier-method';
import { readDatasetsFromFlags } from './dataset-flags';
import { numberFlag } from './load-model';
import { loraPlusFromFlags } from './loraplus-flag';
import { modelFilesFor } from './model-source';
import { memoryBudgetFromFlags } from './plan';
import { checkpointSettings, stepReport } from './train';
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
  const checkpoints = checkpointSettings(flags, flags.out);
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
  const methodSpec = classifierMethodSpec(method, flags);
  // Read before the model opens, so a missing checkpoint is refused at once.
  const resume = checkpoints.resume ? readLatestCheckpoint(checkpoints.dir) : undefined;
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
  const memoryBudgetBytes = memoryBudgetFromFlags(flags);
  const config = validateTrainConfig({
    ...defaultTrainConfig,
    lr,
    weightDecay,
    ...loraPlusFromFlags(flags),
    warmupSteps,
    epochs,
    batchSize,
    gradAccum,
    seqLen,
    seed,
    shuffle: true,
    evalEvery: 0,
    ...(memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes }),
  });
  const identity = {
    method: methodSpec.method,
    methodSettings: classifierMethodSettings(methodSpec, model.config.dropout),
  };
  // Refused before the method is built: a checkpoint of other flags or rows would continue neither run.
  if (resume)
    checkClassifierResumable(resume.state, { ...identity, config, train: trainExamples }, resume.folder);
  // Refused from the memory plan, with what to change, before the method and the steps are planned.
  checkEncoderRunMemory(
    model.config,
    encoderMethodSettings(methodSpec),
    {
      B: batchSize,
      T,
      gradAccum,
      dropout: true,
      initialisedHead: checkpoint.initialised,
      memoryBudgetBytes,
    },
    runtime.device.limits,
  );
  const trained = await classifierMethodFromSpec(runtime, model, methodSpec, seed, checkpoint.initialised);
  const loop = await startClassifierLoop(runtime, model, trained.adaptation, {
    config,
    train: trainExamples,
    validation,
    T,
    padId: encoder.padId,
    identity,
    ...(resume ? { resumeFrom: resume.state } : {}),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (resume)
    say(
      flags.json
        ? JSON.stringify({ resumed_from: resume.folder, step: resume.state.position.step })
        : `resuming from ${resume.folder} (step ${resume.state.position.step})`,
    );
  const started = performance.now();
  let final: EvaluationResult | undefined;
  for await (const event of loop.events()) {
    if (event.kind === 'step') {
      if (flags.json) say(JSON.stringify(stepReport(event)));
      if (checkpoints.every > 0 && event.step % checkpoints.every === 0) {
        const folder = writeCheckpointFolder(checkpoints.dir, await loop.checkpoint());
        say(flags.json ? JSON.stringify({ step: event.step, checkpoint: folder }) : `checkpoint: ${folder}`);
      }
      continue;
    }
    final = event.evaluation ?? final;
    for (const { epoch, trainLoss } of event.epochs) {
      const evaluation = event.evaluation;
      if (flags.json)
        say(
          JSON.stringify({
            epoch,
            train_loss: trainLoss,
            ...(evaluation ? { eval: metricsReport(evaluation) } : {}),
          }),
        );
      else
        say(
          `epoch ${epoch}  train loss ${trainLoss.toFixed(4)}` +
            (evaluation
              ? `  eval loss ${evaluation.loss.toFixed(4)}  accuracy ${evaluation.accuracy.toFixed(4)}  f1 ${evaluation.f1.toFixed(4)}`
              : ''),
        );
    }
  }
  const written =
    (await trained.files(typeof flags.model === 'string' ? flags.model : null)) ??
    (await classifierFolder(runtime, model, files, train.labelSet));
  mkdirSync(flags.out, { recursive: true });
  for (const [name, content] of Object.entries(written)) writeFileSync(join(flags.out, name), content);
  if (flags.json) {
    say(
      JSON.stringify({
        done: true,
        method,
        out: flags.out,
        train_rows: trainExamples.length,
        validation_rows: validation.length,
        labels: train.labelSet,
        steps: loop.totalSteps,
        seconds: (performance.now() - started) / 1000,
        ...(final ? { eval: metricsReport(final) } : {}),
      }),
    );
  } else say(`wrote ${flags.out}`);
  return 0;
}
