/**
 * Merging an adapter into the base weights (merge-adapter.ts) gives a model whose logits are those of
 * base plus adapter, to 1e-4 of the logits' scale: LoRA (rsLoRA), DoRA and IA3 on Llama, Qwen2 (biased
 * k/v, so IA3 scales a bias) and GPT-2 (Conv1D, fan_in_fan_out). Every adapter tensor is random and far
 * from its identity initialisation, so a merge that drops a term, normalises along the wrong axis or
 * scales columns for rows fails. Prompt, prefix and bottleneck adapters are refused with the reason.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, writeTensor } from '../../gpu/tensor';
import { seededRandom } from '../../gpu/testing/random';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { fixedBatch, type TokenExample } from '../batches';
import { type TinyFamily, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from '../models/create-model';
import { DecoderStep } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import { BottleneckAdaptation } from '../peft/bottleneck';
import { DoraAdaptation } from '../peft/dora';
import { Ia3Adaptation } from '../peft/ia3';
import { LoraAdaptation } from '../peft/lora';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { PromptTuningAdaptation } from '../peft/prompt-tuning';
import { hfFolderFiles } from './hf-folder';
import { MergeUnsupportedError, mergedModelTensors } from './merge-adapter';

const bytes = (text: string) => [...new TextEncoder().encode(text)];
const examples: TokenExample[] = [{ ids: bytes('Merged, it is the same.') }, { ids: bytes('ok then') }];
const T = 24;

async function setup(family: TinyFamily) {
  const runtime = await testRuntime();
  const source = filesFromMemory(tinyModelFiles({ family }));
  const model = await createDecoderModel(runtime, await openCheckpoint(source));
  return { runtime, source, model };
}

async function logitsOf(
  runtime: Awaited<ReturnType<typeof testRuntime>>,
  model: Awaited<ReturnType<typeof createDecoderModel>>,
  adaptation?: Adaptation,
) {
  const step = await DecoderStep.plan(
    runtime,
    model,
    { B: examples.length, T },
    { keepLogits: true, ...(adaptation ? { adaptation } : {}) },
  );
  step.run(fixedBatch(examples, examples.length, T));
  return step.readLogits();
}

/** Fills a tensor with seeded values in [lo, hi). */
function randomize(device: GPUDevice, tensor: Tensor, random: () => number, lo: number, hi: number) {
  writeTensor(
    device,
    tensor,
    Float32Array.from({ length: tensor.size }, () => lo + (hi - lo) * random()),
  );
}

async function expectMergeMatches(
  family: TinyFamily,
  make: (s: Awaited<ReturnType<typeof setup>>) => Promise<Adaptation>,
) {
  const s = await setup(family);
  const adaptation = await make(s);
  const want = await logitsOf(s.runtime, s.model, adaptation);
  const base = await logitsOf(s.runtime, s.model);
  const { tensors, layers } = await mergedModelTensors(s.runtime, s.model, adaptation);
  expect(layers).toBeGreaterThan(0);
  const mergedModel = await createDecoderModel(
    s.runtime,
    await openCheckpoint(filesFromMemory(await hfFolderFiles(s.source, tensors))),
  );
  const got = await logitsOf(s.runtime, mergedModel);
  let scale = 0;
  let error = 0;
  let moved = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i] as number));
    error = Math.max(error, Math.abs((got[i] as number) - (want[i] as number)));
    moved = Math.max(moved, Math.abs((base[i] as number) - (want[i] as number)));
  }
  expect(Number.isFinite(error)).toBe(true);
  expect(error / scale, 'merged vs base + adapter').toBeLessThan(1e-4);
  // The adapter really changes the model, so the equality above is not the base model's twice.
  expect(moved / scale, 'base vs base + adapter').toBeGreaterThan(1e-2);
}

const families: TinyFamily[] = ['llama', 'qwen2', 'qwen3', 'gemma3', 'gpt2'];

describe('merging an adapter into the base weights gives the same logits', () => {
  it.each(families)('DoRA on %s (all-linear, rsLoRA)', async (family) => {
    await expectMergeMatches(family, async ({ runtime, model }) => {
      const dora = await DoraAdaptation.create(runtime, model, {
        r: 3,
        alpha: 6,
        dropout: 0,
        targetModules: 'all-linear',
        useRslora: true,
        seed: 5,
      });
      const random = seededRandom(11);
      for (const [, w] of dora.weights()) {
        randomize(runtime.device, w.a, random, -0.3, 0.3);
        randomize(runtime.device, w.b, random, -0.3, 0.3);
        randomize(runtime.device, w.magnitude, random, 0.5, 2);
      }
      return dora;
    });
  });

  it.each(families)('IA3 on %s (PEFT default targets and feed-forward modules)', async (family) => {
    await expectMergeMatches(family, async ({ runtime, model }) => {
      const ia3 = new Ia3Adaptation(runtime, model, {});
      const random = seededRandom(12);
      const kinds = new Set<boolean>();
      for (const [, v] of ia3.weights()) {
        randomize(runtime.device, v.l, random, 0.2, 2);
        kinds.add(v.feedforward);
      }
      // Both kinds: input scaling (feed-forward) and output scaling.
      expect([...kinds].sort()).toEqual([false, true]);
      return ia3;
    });
  });

  it.each(['llama', 'gpt2'] as const)('LoRA on %s (all-linear)', async (family) => {
    await expectMergeMatches(family, async ({ runtime, model }) => {
      const lora = new LoraAdaptation(runtime, model, {
        r: 2,
        alpha: 5,
        targetModules: 'all-linear',
        seed: 3,
      });
      const random = seededRandom(13);
      for (const [, w] of lora.weights()) randomize(runtime.device, w.b, random, -0.3, 0.3);
      return lora;
    });
  });
});

describe('merging refuses what cannot be merged', () => {
  it('prompt, prefix and bottleneck adapters, each with its reason', async () => {
    const { runtime, model } = await setup('llama');
    const cases: [Adaptation, RegExp][] = [
      [
        new PromptTuningAdaptation(runtime, model, { numVirtualTokens: 2, seed: 1 }),
        /prompt tuning prepends/,
      ],
      [
        new PrefixTuningAdaptation(runtime, model, { numVirtualTokens: 2, prefixProjection: false, seed: 1 }),
        /prefix tuning adds learned key\/value prefixes/,
      ],
      [
        new BottleneckAdaptation(runtime, model, { reductionFactor: 4, seed: 1 }),
        /nonlinear layer cannot be folded/,
      ],
    ];
    for (const [adaptation, reason] of cases) {
      const attempt = mergedModelTensors(runtime, model, adaptation);
      await expect(attempt).rejects.toThrow(MergeUnsupportedError);
      await expect(mergedModelTensors(runtime, model, adaptation)).rejects.toThrow(reason);
    }
  });
});
