/**
 * The memory plan against measurement: for each family (Llama, Qwen2, GPT-2) and each method, a real
 * Trainer step on a tiny fixture in an arena of its own, whose peak live bytes the plan must match
 * within 10%. One wider shape (width 128, seq 64) checks that the plan scales with the tensors and not
 * with the per-dispatch uniforms that dominate the tiniest models. A DPO run is planned as two rows a pair.
 */
import { describe, expect, it } from 'vitest';
import { CaseArena } from '../../gpu/case-arena';
import type { Runtime } from '../../gpu/runtime';
import { testRuntime } from '../../gpu/testing/test-runtime';
import type { TokenExample } from '../batches';
import { type TinyModelOptions, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import type { PreferencePair } from '../preference/pairs';
import { PreferenceObjective } from '../preference/preference-objective';
import { defaultTrainConfig, type TrainConfig } from '../train-config';
import { Trainer } from '../trainer';
import { createAdaptation } from './adaptation-settings';
import { planMemory } from './memory-plan';
import type { MethodSettings, StepSettings } from './method-settings';
import { splitKWorkspaceBytes } from './split-k-workspace';

const examples = (count: number, T: number): TokenExample[] =>
  Array.from({ length: count }, (_, e) => ({
    ids: Array.from({ length: T }, (_, t) => (7 * e + 3 * t) % 250),
  }));

/** Pairs of the tiny examples: the chosen side a row, the rejected side another, both with a prompt. */
const pairs = (count: number, T: number): PreferencePair[] => {
  const rows = examples(2 * count, T);
  const side = (e: TokenExample) => ({ ids: e.ids, labels: e.ids.map((id, t) => (t < 4 ? -100 : id)) });
  return Array.from({ length: count }, (_, p) => ({
    chosen: side(rows[2 * p] as TokenExample),
    rejected: side(rows[2 * p + 1] as TokenExample),
  }));
};

async function measure(
  model: TinyModelOptions,
  method: MethodSettings,
  step: StepSettings,
  dpo = false,
): Promise<{ peak: number; byLabel: Record<string, number> }> {
  const base = await testRuntime();
  const arena = new CaseArena(base.device);
  const runtime: Runtime = { ...base, arena };
  try {
    const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles(model)));
    const decoder = await createDecoderModel(runtime, checkpoint);
    const adaptation = await createAdaptation(runtime, decoder, method);
    const config: TrainConfig = {
      ...defaultTrainConfig,
      optimizer: step.optimizer ?? 'adamw',
      steps: 1,
      batchSize: step.batchSize,
      seqLen: step.seqLen,
      gradAccum: step.gradAccum ?? 1,
      gradientCheckpointing: Boolean(step.gradientCheckpointing),
      ...(dpo ? { preference: { beta: 0.1 } } : {}),
    };
    const count = step.batchSize * (step.gradAccum ?? 1);
    const train = examples(count, step.seqLen);
    const validation = step.evaluation ? examples(step.batchSize, step.seqLen) : [];
    const objective = new PreferenceObjective(
      {
        train: pairs(count, step.seqLen),
        validation: step.evaluation ? pairs(step.batchSize, step.seqLen) : [],
      },
      0.1,
    );
    const trainer = dpo
      ? new Trainer(runtime, decoder, adaptation, config, objective)
      : new Trainer(runtime, decoder, adaptation, config, train, validation);
    for await (const _ of trainer.run()) {
      // one step (and its evaluation)
    }
    const stats = arena.stats();
    return { peak: stats.peakLiveBytes, byLabel: stats.byLabel };
  } finally {
    arena.destroyAll();
  }
}

const methods: MethodSettings[] = [
  { method: 'full' },
  { method: 'lora', r: 4 },
  { method: 'dora', r: 4 },
  { method: 'ia3' },
  { method: 'prompt', numVirtualTokens: 4 },
  { method: 'prefix', numVirtualTokens: 4 },
  { method: 'adapter', reductionFactor: 4 },
];

async function expectWithin10Percent(
  model: TinyModelOptions,
  method: MethodSettings,
  step: StepSettings,
  dpo = false,
) {
  const measured = await measure(model, method, step, dpo);
  const config = (await openCheckpoint(filesFromMemory(tinyModelFiles(model)))).config;
  // A DPO step holds two rows a pair; its reference pass comes first, smaller, and is freed.
  const plan = planMemory(config, method, dpo ? { ...step, batchSize: 2 * step.batchSize } : step);
  const ratio = plan.totalBytes / measured.peak;
  const what = `${model.family} ${method.method} ${JSON.stringify(step)}: plan ${plan.totalBytes} B, measured ${measured.peak} B`;
  expect(ratio, what).toBeGreaterThan(0.9);
  expect(ratio, what).toBeLessThan(1.1);
  return { plan, measured: measured.peak };
}

const tinyStep: StepSettings = { batchSize: 2, seqLen: 16 };

describe.each(['llama', 'qwen2', 'gpt2'] as const)('the memory plan of a tiny %s', (family) => {
  it.each(methods.map((m) => [m.method, m] as const))(
    'is within 10%% of the measured peak: %s',
    async (_, method) => {
      await expectWithin10Percent({ family }, method, tinyStep);
    },
  );
});

describe('the memory plan of DPO', () => {
  it.each([
    ['lora', { method: 'lora', r: 4 }],
    ['full', { method: 'full' }],
  ] as const)('%s: two rows a pair, within a tenth of the measured peak', async (_, method) => {
    await expectWithin10Percent({ family: 'llama' }, method, { ...tinyStep, evaluation: true }, true);
  });
});

describe('the memory plan under gradient checkpointing', () => {
  it.each([
    ['llama', { method: 'full' }],
    ['qwen2', { method: 'lora', r: 4 }],
    ['qwen3', { method: 'full' }],
    ['gemma3', { method: 'full' }],
    ['gpt2', { method: 'full' }],
    ['gpt2', { method: 'prefix', numVirtualTokens: 4 }],
  ] as const)('is within 10%% of the measured peak: %s', async (family, method) => {
    const step = { ...tinyStep, gradientCheckpointing: true };
    const { plan, measured } = await expectWithin10Percent({ family }, method, step);
    // The saving it predicts is real: the same run without checkpointing measures more, by about as much.
    const without = await measure({ family }, method, tinyStep);
    const predicted = plan.activationBytes.withoutCheckpointing - plan.activationBytes.withCheckpointing;
    expect(predicted).toBeGreaterThan(0);
    expect(Math.abs(without.peak - measured - predicted) / predicted).toBeLessThan(0.1);
  });
});

describe('the memory plan with evaluation, gradient accumulation and SGD', () => {
  it.each([
    ['llama', { method: 'lora', r: 4, dropout: 0.1 }],
    ['gpt2', { method: 'ia3' }],
    ['qwen2', { method: 'dora', r: 4, dropout: 0.1 }],
    ['smollm3', { method: 'lora', r: 4 }],
    ['gemma3', { method: 'lora', r: 4 }],
    ['gemma2', { method: 'ia3' }],
  ] as const)('is within 10%% of the measured peak: %s', async (family, method) => {
    await expectWithin10Percent({ family }, method, {
      ...tinyStep,
      evaluation: true,
      gradAccum: 2,
      optimizer: 'sgd',
    });
  });
});

describe('the memory plan of a step long enough to split K (2 × 256 tokens)', () => {
  it.each([
    ['lora', { method: 'lora', r: 4 }],
    ['full', { method: 'full' }],
  ] as const)(
    'counts the split-K workspace, within 10%% of the measured peak: llama %s',
    async (_, method) => {
      const step = { batchSize: 2, seqLen: 256 };
      const { plan } = await expectWithin10Percent({ family: 'llama' }, method, step);
      expect(plan.components.workspace).toBeGreaterThan(splitKWorkspaceBytes);
    },
  );
});

describe('the memory plan of a wider model (width 128, 2 layers, 64 tokens)', () => {
  const wide: TinyModelOptions = {
    family: 'llama',
    hiddenSize: 128,
    intermediateSize: 344,
    heads: 4,
    kvHeads: 2,
  };
  const step: StepSettings = { batchSize: 2, seqLen: 64 };
  it.each([
    ['full', { method: 'full' }, false],
    ['lora r=8', { method: 'lora', r: 8 }, false],
    ['lora r=8, checkpointing', { method: 'lora', r: 8 }, true],
  ] as const)('is within 10%% of the measured peak: %s', async (_, method, gradientCheckpointing) => {
    const { plan } = await expectWithin10Percent(wide, method, { ...step, gradientCheckpointing });
    // Full fine-tuning: a gradient, m and v for every weight (3× the weights, to the clip state's bytes).
    if (method.method === 'full')
      expect(plan.components.gradients + plan.components.optimizer).toBeGreaterThan(
        3 * plan.components.weights,
      );
  });
});
