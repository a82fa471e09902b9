/**
 * Learning test for encoder classification: a tiny random BERT learns a synthetic sentence-pair task
 * (do both "the X sat" and "on the Y" name an animal?) to at least 95% validation accuracy and F1, from
 * chance. The label needs both sentences: a model that reads only one is right at most 80% of the time
 * on this balanced set (saying 1 whenever its sentence names an animal is right on every positive and on
 * the 3/5 of negatives whose mat is in that sentence).
 * Full fine-tuning (loss to a third of its start) and LoRA (to three quarters), AdamW, linear schedule
 * with warmup, clipping at 1, as HF's Trainer defaults.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import { type ClassificationExample, ClassifierTrainer } from './classifier-trainer';
import { encoderLora } from './encoder-lora';
import { EncoderFullFineTuning } from './encoder-methods';
import { PairEncoder } from './pair-encoder';

const things = ['cat', 'dog', 'mat'];

/** Balanced pairs: label 1 when both sentences name an animal (cat, dog), 0 when either names the mat. */
function pairTask(encoder: PairEncoder, count: number, seed: number): ClassificationExample[] {
  const random = seededRandom(seed);
  const pick = () => things[Math.floor(random() * things.length)] as string;
  return Array.from({ length: count }, (_, i) => {
    const animal = (word: string) => word !== 'mat';
    const positive = i % 2 === 0;
    let x = pick();
    let y = pick();
    while ((animal(x) && animal(y)) !== positive) {
      x = pick();
      y = pick();
    }
    return { ...encoder.encode(`the ${x} sat`, `on the ${y}`), label: positive ? 1 : 0 };
  });
}

describe('encoder classification learns', () => {
  const methods = [
    { method: 'full fine-tuning', lr: 5e-3, lossRatio: 1 / 3 },
    // LoRA adapts a frozen random encoder: right as often, less sure of itself in as many steps.
    { method: 'LoRA r 8 on query, value, with the classifier', lr: 1e-2, lossRatio: 3 / 4 },
  ];
  it.each(methods)(
    'a two-sentence task (both name an animal?) to ≥ 95% validation accuracy: $method',
    {
      timeout: 600_000,
    },
    async ({ method, lr, lossRatio }) => {
      const runtime = await testRuntime();
      const tokenizer = tinyWordPiece();
      const encoder = new PairEncoder(tokenizer.tokenizerJson, tokenizer.tokenizerConfig);
      const train = pairTask(encoder, 48, 1);
      const validation = pairTask(encoder, 30, 2);
      const checkpoint = await openEncoderCheckpoint(
        filesFromMemory(tinyEncoderFiles({ family: 'bert', seed: 3, layers: 1, heads: 2 })),
      );
      const model = await createEncoderModel(runtime, checkpoint);
      const trainer = await ClassifierTrainer.create(
        runtime,
        model,
        method === 'full fine-tuning'
          ? new EncoderFullFineTuning(runtime, model)
          : encoderLora(runtime, model, { r: 8, alpha: 16 }).adaptation,
        {
          batchSize: 16,
          T: 9,
          epochs: 15,
          hyper: { lr },
          warmupRatio: 0.1,
          seed: 0,
          padId: tokenizer.padId,
        },
      );
      const before = await trainer.evaluate(validation);
      const losses: number[] = [];
      await trainer.train(train, { onEpoch: (_, loss) => losses.push(loss) });
      const after = await trainer.evaluate(validation);
      console.log(
        `pair task (${method}): accuracy ${before.accuracy} → ${after.accuracy}, f1 ${after.f1}, losses ${losses.map((l) => l.toFixed(3)).join(' ')}`,
      );
      expect(before.accuracy).toBeLessThan(0.75);
      expect(after.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(after.f1).toBeGreaterThanOrEqual(0.95);
      expect(after.loss).toBeLessThan(before.loss * lossRatio);
    },
  );
});
