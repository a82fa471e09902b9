/**
 * The encoder memory plan against measurement: one ClassifierTrainer update (with dropout, as
 * classification runs train) on a tiny encoder fixture in an arena of its own, whose peak live bytes the
 * plan must match within 10%, for full fine-tuning, LoRA and IA3 across the three families.
 */
import { describe, expect, it } from 'vitest';
import { CaseArena } from '../../gpu/case-arena';
import type { Runtime } from '../../gpu/runtime';
import { testRuntime } from '../../gpu/testing/test-runtime';
import type { ClassificationExample } from '../classify/classifier-trainer';
import { ClassifierTrainer } from '../classify/classifier-trainer';
import { encoderIa3 } from '../classify/encoder-ia3-bottleneck';
import { encoderLora } from '../classify/encoder-lora';
import { EncoderFullFineTuning } from '../classify/encoder-methods';
import { type TinyEncoderOptions, tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { createEncoderModel, type EncoderModel } from '../models/bert';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import type { Adaptation } from '../peft/adaptation';
import { planEncoderMemory } from './encoder-plan';

type EncoderMethodSpec = { method: 'full' } | { method: 'lora'; r: number } | { method: 'ia3' };

/** The method as classifier-method.ts builds it (head trained beside a PEFT method). */
function adaptationFor(runtime: Runtime, model: EncoderModel, m: EncoderMethodSpec): Adaptation {
  if (m.method === 'full') return new EncoderFullFineTuning(runtime, model);
  if (m.method === 'lora')
    return encoderLora(runtime, model, { r: m.r, alpha: m.r, dropout: 0, seed: 0 }).adaptation;
  return encoderIa3(runtime, model).adaptation;
}

const examples = (count: number, T: number): ClassificationExample[] =>
  Array.from({ length: count }, (_, e) => ({
    ids: Array.from({ length: T - (e % 3) }, (_, t) => 5 + ((7 * e + 3 * t) % 40)),
    tokenTypes: Array.from({ length: T - (e % 3) }, () => 0),
    label: e % 2,
  }));

async function measure(model: TinyEncoderOptions, method: EncoderMethodSpec, B: number, T: number) {
  const base = await testRuntime();
  const arena = new CaseArena(base.device);
  const runtime: Runtime = { ...base, arena };
  try {
    const checkpoint = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles(model)));
    const encoder = await createEncoderModel(runtime, checkpoint);
    const adaptation = adaptationFor(runtime, encoder, method);
    const trainer = await ClassifierTrainer.create(runtime, encoder, adaptation, {
      batchSize: B,
      T,
      padId: 0,
      dropout: true,
    });
    await trainer.step(examples(B, T), 1);
    await trainer.gradNorm();
    return { config: checkpoint.config, stats: arena.stats() };
  } finally {
    arena.destroyAll();
  }
}

async function expectWithin10Percent(
  model: TinyEncoderOptions,
  method: EncoderMethodSpec,
  B: number,
  T: number,
): Promise<number> {
  const { config, stats } = await measure(model, method, B, T);
  const plan = planEncoderMemory(config, method, { batchSize: B, seqLen: T });
  const ratio = plan.totalBytes / stats.peakLiveBytes;
  const what = `${model.family} ${method.method}: plan ${plan.totalBytes} B, measured ${stats.peakLiveBytes} B`;
  expect(ratio, what).toBeGreaterThan(0.9);
  expect(ratio, what).toBeLessThan(1.1);
  return ratio;
}

/** Width 64 and 32 tokens: the step's tensors, not the per-dispatch uniforms, carry the total. */
const shape = { hiddenSize: 64, intermediateSize: 128 };
const cases: [string, TinyEncoderOptions, EncoderMethodSpec][] = [
  ['bert, full fine-tuning', { family: 'bert', ...shape }, { method: 'full' }],
  ['bert, LoRA r=8', { family: 'bert', ...shape }, { method: 'lora', r: 8 }],
  ['roberta, IA3', { family: 'roberta', ...shape }, { method: 'ia3' }],
  ['distilbert, LoRA r=8', { family: 'distilbert', ...shape }, { method: 'lora', r: 8 }],
];

describe('the encoder memory plan against the arena’s measured peak', () => {
  for (const [label, model, method] of cases)
    it(`${label}: within 10%`, async () => {
      await expectWithin10Percent(model, method, 4, 32);
    });
  it('bert, full fine-tuning with 20 rows a batch, evaluated 8 at a time: within 10%', async () => {
    await expectWithin10Percent({ family: 'bert', ...shape }, { method: 'full' }, 20, 16);
  });
});
