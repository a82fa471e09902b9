/**
 * The synthetic sentence-pair task the encoder-classification learning tests share: is the first
 * sentence an animal AND the second one too? Each sentence is one word of cat, dog or mat, so a row is
 * [CLS] x [SEP] y [SEP] (T = 5). The label needs both sentences: a model that reads only one is right
 * at most 80% of the time on this balanced set (saying 1 whenever its word is an animal is right on
 * every positive and on the 3/5 of negatives whose mat is in that sentence).
 * One-word sentences keep rows short: a step's cost on SwiftShader grows with B·T, and on a frozen random
 * encoder, whose attention is near uniform, each word weighs more in [CLS] the fewer tokens there are.
 * `learnPairTask` trains a fresh tiny random one-layer BERT with a given adaptation and returns the
 * validation loss and accuracy before and after, so each test states only its method and thresholds.
 */
import type { Runtime } from '../../../gpu/runtime';
import { seededRandom } from '../../../gpu/testing/random';
import { testRuntime } from '../../../gpu/testing/test-runtime';
import { epochBatches } from '../../data/order';
import { tinyEncoderFiles } from '../../fixtures/tiny-encoders';
import { tinyWordPiece } from '../../fixtures/tiny-wordpiece';
import { filesFromMemory } from '../../io/model-files';
import { createEncoderModel, type EncoderModel } from '../../models/bert';
import { openEncoderCheckpoint } from '../../models/bert-checkpoint';
import type { Adaptation } from '../../peft/adaptation';
import { type ClassificationExample, ClassifierTrainer, type EvaluationResult } from '../classifier-trainer';
import { PairEncoder } from '../pair-encoder';

const words = ['cat', 'dog', 'mat'];
const animal = (word: string) => word !== 'mat';

/** Tokens per row: [CLS] x [SEP] y [SEP]. */
export const pairTaskT = 5;

/** `count` balanced pairs (even rows positive), drawn with `seed`. */
export function pairTask(encoder: PairEncoder, count: number, seed: number): ClassificationExample[] {
  const random = seededRandom(seed);
  const pick = () => words[Math.floor(random() * words.length)] as string;
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 0;
    let x = pick();
    let y = pick();
    while ((animal(x) && animal(y)) !== positive) {
      x = pick();
      y = pick();
    }
    return { ...encoder.encode(x, y), label: positive ? 1 : 0 };
  });
}

export interface PairTaskRun {
  method: string;
  /** AdamW's peak rate (warmup 10%, then linear decay to 0). */
  lr: number;
  epochs: number;
  /** The adaptation to train on a fresh model (the classifier head trains beside it, as PEFT's SEQ_CLS). */
  make(runtime: Runtime, model: EncoderModel): Promise<Adaptation> | Adaptation;
}

export interface PairTaskResult {
  before: EvaluationResult;
  after: EvaluationResult;
  /** Mean training loss of each epoch. */
  losses: number[];
}

/**
 * The trainer driven directly, epoch by epoch (shuffled with seed 0, no accumulation), so these tests
 * measure the method, not the run loop (classifier-loop.ts, tested with the worker and the CLI).
 * Returns each epoch's mean training loss.
 */
async function trainEpochs(trainer: ClassifierTrainer, train: ClassificationExample[], epochs: number) {
  const totalSteps = Math.ceil(train.length / batchSize) * epochs;
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let sum = 0;
    for (const indices of epochBatches(train.length, batchSize, epoch, { shuffle: true, seed: 0 })) {
      const batch = indices.map((i) => train[i] as ClassificationExample);
      sum += (await trainer.step(batch, totalSteps)) * batch.length;
    }
    losses.push(sum / train.length);
  }
  return losses;
}

/** Rows per update: 48 training pairs give 6 updates an epoch. */
const batchSize = 8;

/**
 * Trains `run` on 48 pairs and scores 30 held-out pairs before and after. The runtime, tokenizer and
 * data are made once per test file; the model is fresh each call (same seeded weights).
 */
export async function learnPairTask(run: PairTaskRun): Promise<PairTaskResult> {
  const runtime = await testRuntime();
  const tokenizer = tinyWordPiece();
  const encoder = new PairEncoder(tokenizer.tokenizerJson, tokenizer.tokenizerConfig);
  const train = pairTask(encoder, 48, 1);
  const validation = pairTask(encoder, 30, 2);
  const checkpoint = await openEncoderCheckpoint(
    filesFromMemory(tinyEncoderFiles({ family: 'bert', seed: 3, layers: 1, heads: 2 })),
  );
  const model = await createEncoderModel(runtime, checkpoint);
  const trainer = await ClassifierTrainer.create(runtime, model, await run.make(runtime, model), {
    batchSize,
    T: pairTaskT,
    hyper: { lr: run.lr },
    warmupRatio: 0.1,
    seed: 0,
    padId: tokenizer.padId,
  });
  const before = await trainer.evaluate(validation);
  const losses = await trainEpochs(trainer, train, run.epochs);
  const after = await trainer.evaluate(validation);
  console.log(
    `pair task (${run.method}): accuracy ${before.accuracy} → ${after.accuracy}, f1 ${after.f1}, loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}, train losses ${losses.map((l) => l.toFixed(3)).join(' ')}`,
  );
  return { before, after, losses };
}
