/**
 * Learning tests for encoder classification, every method on one task: a tiny random one-layer BERT
 * learns the sentence-pair task of testing/pair-task.ts (are both one-word sentences animals? the label
 * needs both sentences, so a model that reads only one is right at most 80% of the time) from chance
 * (< 75%), on 48 training pairs in batches of 8, scored on 30 held-out pairs; AdamW with 10% warmup and
 * linear decay, clipping at 1, as HF's Trainer defaults. PEFT methods train the classifier beside the
 * adapter, as PEFT's SEQ_CLS does. One file for all methods so the pipelines compile once.
 * Stated thresholds (validation accuracy, validation loss as a fraction of its start):
 *   full fine-tuning, 6 epochs, lr 2e-2:                  ≥ 95% (and F1), < 1/3
 *   LoRA r 8 on query, value, 6 epochs, lr 2e-2:          ≥ 95% (and F1), < 1/2
 *   DoRA r 8, 8 epochs, lr 2e-2:                          ≥ 95%, < 1/2
 *   IA3, 6 epochs, lr 2e-1:                               ≥ 95%, < 0.3
 *   bottleneck (m = C/2), 8 epochs, lr 5e-2:              ≥ 95%, < 1/2
 *   prompt tuning (1 virtual token), 8 epochs, lr 1e-1:   ≥ 90%, < 0.9
 *   prefix tuning (1 virtual token), 8 epochs, lr 1e-1:   ≥ 85%, < 0.9
 * Prompt and prefix tuning are the weakest here: on a frozen random encoder attention is near uniform,
 * so virtual tokens mostly dilute [CLS]'s view of the words (one token dilutes least); above 80% they
 * still beat any model that reads only one sentence.
 */
import { describe, expect, it } from 'vitest';
import { encoderBottleneck, encoderIa3 } from './encoder-ia3-bottleneck';
import { encoderDora, encoderLora } from './encoder-lora';
import { EncoderFullFineTuning } from './encoder-methods';
import { encoderPrefixTuning, encoderPromptTuning } from './encoder-prompt-learning';
import { learnPairTask, type PairTaskRun } from './testing/pair-task';

interface MethodCase extends PairTaskRun {
  accuracy: number;
  lossRatio: number;
}

const fullAndLora: MethodCase[] = [
  {
    method: 'full fine-tuning',
    lr: 2e-2,
    epochs: 6,
    accuracy: 0.95,
    lossRatio: 1 / 3,
    make: (runtime, model) => new EncoderFullFineTuning(runtime, model),
  },
  {
    method: 'LoRA r 8 on query, value, with the classifier',
    lr: 2e-2,
    epochs: 6,
    accuracy: 0.95,
    lossRatio: 1 / 2,
    make: (runtime, model) => encoderLora(runtime, model, { r: 8, alpha: 16 }).adaptation,
  },
];

const otherPeft: MethodCase[] = [
  {
    method: 'DoRA r 8 on query, value',
    lr: 2e-2,
    epochs: 8,
    accuracy: 0.95,
    lossRatio: 1 / 2,
    make: async (runtime, model) => (await encoderDora(runtime, model, { r: 8, alpha: 16 })).adaptation,
  },
  {
    method: "IA3 on PEFT's BERT targets",
    lr: 2e-1,
    epochs: 6,
    accuracy: 0.95,
    lossRatio: 0.3,
    make: (runtime, model) => encoderIa3(runtime, model).adaptation,
  },
  {
    method: 'bottleneck adapters, reduction factor 2',
    lr: 5e-2,
    epochs: 8,
    accuracy: 0.95,
    lossRatio: 1 / 2,
    make: (runtime, model) => encoderBottleneck(runtime, model, { reductionFactor: 2 }).adaptation,
  },
  {
    method: 'prompt tuning, 1 virtual token',
    lr: 1e-1,
    epochs: 8,
    accuracy: 0.9,
    lossRatio: 0.9,
    make: (runtime, model) => encoderPromptTuning(runtime, model, { numVirtualTokens: 1 }).adaptation,
  },
  {
    method: 'prefix tuning, 1 virtual token',
    lr: 1e-1,
    epochs: 8,
    accuracy: 0.85,
    lossRatio: 0.9,
    make: (runtime, model) => encoderPrefixTuning(runtime, model, { numVirtualTokens: 1 }).adaptation,
  },
];

async function expectLearns({ accuracy, lossRatio, ...run }: MethodCase, withF1: boolean) {
  const { before, after } = await learnPairTask(run);
  expect(before.accuracy).toBeLessThan(0.75);
  expect(after.accuracy).toBeGreaterThanOrEqual(accuracy);
  if (withF1) expect(after.f1).toBeGreaterThanOrEqual(accuracy);
  expect(after.loss).toBeLessThan(before.loss * lossRatio);
}

describe('encoder classification learns', () => {
  it.each(fullAndLora)(
    'a two-sentence task (both name an animal?) to ≥ 95% validation accuracy: $method',
    { timeout: 600_000 },
    (c) => expectLearns(c, true),
  );
});

describe('encoder classification learns with every PEFT method', () => {
  it.each(otherPeft)(
    'a two-sentence task to its stated validation accuracy: $method',
    { timeout: 600_000 },
    (c) => expectLearns(c, false),
  );
});
