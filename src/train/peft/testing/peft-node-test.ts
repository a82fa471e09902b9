/**
 * What the PEFT method tests against the tfjs reference share (bottleneck, prompt and prefix tuning):
 * a tiny decoder opened both on the GPU and as tfjs variables, the two-row batch (one row right-padded),
 * the one-SGD-step case (three byte rows, their right-padded reference batch, plain SGD with nothing
 * else on), the fixed-sentence learning task with its adapter round trip, one planned training step's
 * gradients and peak bytes, and small helpers.
 * The tfjs backend is set to CPU by the test files themselves (beforeAll).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { Runtime } from '../../../gpu/runtime';
import { downloadTensor } from '../../../gpu/tensor';
import { testRuntime } from '../../../gpu/testing/test-runtime';
import type { TokenExample } from '../../batches';
import { evaluateLoss } from '../../evaluate';
import { type TinyFamily, tinyModelFiles } from '../../fixtures/tiny-models';
import { openCheckpoint } from '../../io/checkpoint';
import { filesFromMemory } from '../../io/model-files';
import { createDecoderModel } from '../../models/create-model';
import { type DecoderModel, DecoderStep, type StepOptions, type TokenBatch } from '../../models/decoder-step';
import type { Params } from '../../models/reference/tfjs-causal-lm';
import { defaultTrainConfig, type TrainConfig } from '../../train-config';
import { type TrainEvent, Trainer } from '../../trainer';
import type { Adaptation } from '../adaptation';

/** Two rows of 7 tokens, the second right-padded after 3; labels are the ids, -100 on padding. */
export const twoRowBatch: TokenBatch = {
  ids: [
    [72, 105, 33, 10, 200, 7, 9],
    [65, 66, 67, 0, 0, 0, 0],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0],
  ],
  labels: [
    [72, 105, 33, 10, 200, 7, 9],
    [65, 66, 67, -100, -100, -100, -100],
  ],
};

/**
 * Plans and runs one training step on `twoRowBatch` with `options` (checkpointing, head chunks): its loss,
 * the gradient of every trainable tensor, and the arena's peak bytes over planning and running.
 */
export async function stepOnce(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: Adaptation,
  options: Omit<StepOptions, 'adaptation' | 'backward'> = {},
) {
  const arena = runtime.arena;
  const before = arena.stats().liveBytes;
  arena.resetPeaks();
  const step = await DecoderStep.plan(
    runtime,
    model,
    { B: 2, T: 7 },
    { adaptation, backward: true, ...options },
  );
  step.run(twoRowBatch);
  const { loss } = await step.loss();
  const peak = arena.stats().peakLiveBytes - before;
  const grads = new Map<string, Float32Array>();
  for (const entry of adaptation.trainable()) grads.set(entry.name, await downloadTensor(arena, entry.grad));
  return { loss, grads, peak, dispatches: step.dispatchCount };
}

export const bytes = (text: string) => [...new TextEncoder().encode(text)];

/** A tiny decoder of `family` (fixture seed when given) on the GPU, and its weights as tfjs variables. */
export async function openTinyDecoder(family: TinyFamily, seed?: number) {
  const runtime = await testRuntime();
  const checkpoint = await openCheckpoint(
    filesFromMemory(tinyModelFiles({ family, ...(seed === undefined ? {} : { seed }) })),
  );
  const model = await createDecoderModel(runtime, checkpoint);
  const params: Params = new Map();
  for (const [name, w] of checkpoint.weights)
    params.set(name, tf.variable(tf.tensor(await checkpoint.read(name), w.shape)));
  return { runtime, model, params, config: checkpoint.config };
}

/** max |got − want| / max |want|. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i] as number));
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  }
  return worst / scale;
}

/** Every event of a Trainer run, in order. */
export async function runTrainer(trainer: Trainer): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  for await (const event of trainer.run()) events.push(event);
  return events;
}

/**
 * The one-SGD-step case: three byte rows (after BOS 256 when `bos`), one plain SGD step at lr 0.5
 * (constant rate, no clipping, no shuffling) over all of them, in batches of `batchSize` with `gradAccum`
 * micro-batches, and the same rows as one right-padded batch for the reference.
 */
export function sgdStepCase({ bos = false, batchSize = 3, gradAccum = 1 } = {}) {
  const first = bos ? [256] : [];
  const examples: TokenExample[] = ['Hello, world!', 'Whetstone', 'ok'].map((text) => ({
    ids: [...first, ...bytes(text)],
  }));
  const config: TrainConfig = {
    ...defaultTrainConfig,
    optimizer: 'sgd',
    lr: 0.5,
    schedule: 'constant',
    maxGradNorm: 0,
    shuffle: false,
    steps: 1,
    batchSize,
    gradAccum,
    seqLen: 32,
  };
  const T = Math.max(...examples.map((e) => e.ids.length));
  const pad = (row: number[], fill: number) => [...row, ...Array(T - row.length).fill(fill)];
  const reference: TokenBatch = {
    ids: examples.map((e) => pad(e.ids, 0)),
    attentionMask: examples.map((e) =>
      pad(
        e.ids.map(() => 1),
        0,
      ),
    ),
    labels: examples.map((e) => pad(e.ids, -100)),
  };
  return { examples, config, reference };
}

/**
 * The learning task: continue "the quick brown fox" (after BOS), `copies` training rows of it in
 * batches of 2 at seq-len 32, AdamW at `lr` with 2 warmup steps, evaluated on the sentence itself.
 * Runs `steps` steps and returns the validation loss before and after, with the step events.
 */
export async function learnSentence(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: Adaptation,
  { lr, steps, copies = 4 }: { lr: number; steps: number; copies?: number },
) {
  const sentence = { ids: [256, ...bytes('the quick brown fox')] };
  const config: TrainConfig = {
    ...defaultTrainConfig,
    lr,
    steps,
    batchSize: 2,
    seqLen: 32,
    warmupSteps: 2,
    evalEvery: steps,
  };
  const train = Array.from({ length: copies }, () => sentence);
  const trainer = new Trainer(runtime, model, adaptation, config, train, [sentence]);
  const start = await trainer.evaluate();
  const events = await runTrainer(trainer);
  const end = events.filter((e) => e.kind === 'eval').at(-1);
  if (end?.kind !== 'eval') throw new Error('the run ended without an evaluation');
  const validation: TokenBatch = {
    ids: [sentence.ids],
    attentionMask: [sentence.ids.map(() => 1)],
    labels: [sentence.ids],
  };
  return { start: start.loss, end: end.loss, steps: events.filter((e) => e.kind === 'step'), validation };
}

/**
 * An adapter read back from its files scores exactly the trained one's loss on `validation`, and that
 * loss is the run's last evaluation.
 */
export async function expectSameLossAfterRoundTrip(
  runtime: Runtime,
  model: DecoderModel,
  trained: Adaptation,
  imported: Adaptation,
  validation: TokenBatch,
  lastEval: number,
) {
  const before = await evaluateLoss(runtime, model, [validation], trained);
  const again = await evaluateLoss(runtime, model, [validation], imported);
  expect(again.loss).toBe(before.loss);
  expect(Math.abs(before.loss - lastEval)).toBeLessThan(1e-5 * before.loss);
}
