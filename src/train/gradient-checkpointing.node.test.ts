/**
 * Gradient checkpointing (TrainConfig.gradientCheckpointing): the same step with it on gives the same
 * gradients, bit for bit (every kernel is deterministic and the recomputed forward runs the same
 * dispatches, dropout masks included), for each method family: full fine-tuning, LoRA and DoRA with
 * dropout, IA3, bottleneck adapters, prompt and prefix tuning, on Llama (GQA), Qwen3 (per-head q/k norms)
 * and GPT-2; the Trainer's SGD update is the same;
 * and the arena's peak bytes for the step fall by at least 80% of the activations that L − 1 layers
 * would have kept (L = 4 here; the rest of the difference is the recompute's small uniform buffers).
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../gpu/runtime';
import { downloadTensor } from '../gpu/tensor';
import { testRuntime } from '../gpu/testing/test-runtime';
import type { TokenExample } from './batches';
import { type TinyFamily, tinyModelFiles } from './fixtures/tiny-models';
import { openCheckpoint } from './io/checkpoint';
import { filesFromMemory } from './io/model-files';
import type { DecoderConfig } from './models/config';
import { createDecoderModel } from './models/create-model';
import type { DecoderModel } from './models/decoder-step';
import type { Adaptation } from './peft/adaptation';
import { BottleneckAdaptation } from './peft/bottleneck';
import { DoraAdaptation } from './peft/dora';
import { FullFineTuning } from './peft/full';
import { Ia3Adaptation } from './peft/ia3';
import { LoraAdaptation } from './peft/lora';
import { PrefixTuningAdaptation } from './peft/prefix-tuning';
import { PromptTuningAdaptation } from './peft/prompt-tuning';
import { stepOnce } from './peft/testing/peft-node-test';
import { defaultTrainConfig, type TrainConfig } from './train-config';
import { Trainer } from './trainer';

type Method = 'full' | 'lora' | 'dora' | 'ia3' | 'adapter' | 'prompt' | 'prefix';

async function adaptationFor(runtime: Runtime, model: DecoderModel, method: Method): Promise<Adaptation> {
  switch (method) {
    case 'full':
      return new FullFineTuning(runtime, model);
    case 'lora':
      return new LoraAdaptation(runtime, model, {
        r: 4,
        alpha: 8,
        dropout: 0.2,
        targetModules: 'all-linear',
        seed: 1,
      });
    case 'dora':
      return DoraAdaptation.create(runtime, model, { r: 4, alpha: 8, dropout: 0.2, seed: 1 });
    case 'ia3':
      return new Ia3Adaptation(runtime, model);
    case 'prompt':
      return new PromptTuningAdaptation(runtime, model, { numVirtualTokens: 3, seed: 1 });
    case 'adapter':
      return new BottleneckAdaptation(runtime, model, { reductionFactor: 4, seed: 1 });
    case 'prefix':
      return new PrefixTuningAdaptation(runtime, model, { numVirtualTokens: 3, seed: 1 });
  }
}

async function tinyModel(runtime: Runtime, family: TinyFamily, layers: number) {
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family, layers })));
  return createDecoderModel(runtime, checkpoint);
}

/** Bytes of the activations one layer keeps for its backward (each buffer padded to 16 bytes). */
function layerActivationBytes(c: DecoderConfig, B: number, T: number, prefix = 0): number {
  const N = B * T;
  const bytes = (n: number) => Math.ceil((4 * n) / 16) * 16;
  const lse = bytes(B * c.NH * T);
  const withPrefix = prefix > 0 ? 2 * bytes(B * (prefix + T) * c.KV * c.D) : 0;
  if (c.family === 'gpt2') {
    // a, mean1, rstd1, qkv, q, k, v, att, lse, hm, m, mean2, rstd2, fc, g
    return 6 * bytes(N * c.C) + bytes(N * 3 * c.C) + 4 * bytes(N) + 2 * bytes(N * c.F) + lse + withPrefix;
  }
  // x1, r1, q, k, v, qr, kr, att, lse, hm, x2, r2, gate, up, act (+ Qwen3's q and k rrms)
  const Q = c.NH * c.D;
  const K = c.KV * c.D;
  const headNormRrms = c.qkNorm ? bytes(N * (c.NH + c.KV)) : 0;
  return (
    headNormRrms +
    3 * bytes(N * c.C) +
    2 * bytes(N) +
    3 * bytes(N * Q) +
    3 * bytes(N * K) +
    3 * bytes(N * c.F) +
    lse +
    withPrefix
  );
}

describe('gradient checkpointing', () => {
  it.each<{ family: TinyFamily; method: Method }>([
    { family: 'llama', method: 'full' },
    { family: 'llama', method: 'lora' },
    { family: 'llama', method: 'dora' },
    { family: 'llama', method: 'ia3' },
    { family: 'llama', method: 'adapter' },
    { family: 'llama', method: 'prompt' },
    { family: 'qwen3', method: 'full' },
    { family: 'qwen3', method: 'lora' },
    { family: 'gemma3', method: 'full' },
    { family: 'gpt2', method: 'full' },
    { family: 'gpt2', method: 'prefix' },
  ])('gives the same gradients and a lower peak: $family $method', async ({ family, method }) => {
    const runtime = await testRuntime();
    const L = 4;
    const model = await tinyModel(runtime, family, L);
    const adaptation = await adaptationFor(runtime, model, method);
    const kept = await stepOnce(runtime, model, adaptation);
    const recomputed = await stepOnce(runtime, model, adaptation, { gradientCheckpointing: true });
    expect(recomputed.loss).toBe(kept.loss);
    expect(recomputed.grads.size).toBe(kept.grads.size);
    // (LoRA's A and the adapters' down projections start with zero gradients; the rest do not.)
    expect([...kept.grads.values()].some((grad) => grad.some((g) => g !== 0))).toBe(true);
    for (const [name, grad] of kept.grads) expect(recomputed.grads.get(name), name).toEqual(grad);
    // Every layer's forward runs once more.
    expect(recomputed.dispatches).toBeGreaterThan(kept.dispatches);
    const prefix = method === 'prefix' ? 3 : 0;
    // Prompt tuning's 3 virtual tokens lengthen every row.
    const T = method === 'prompt' ? 10 : 7;
    const saved = (L - 1) * layerActivationBytes(model.config, 2, T, prefix);
    expect(kept.peak - recomputed.peak).toBeGreaterThan(0.8 * saved);
  });

  it('makes the same SGD update through the Trainer', async () => {
    const runtime = await testRuntime();
    const model = await tinyModel(runtime, 'llama', 2);
    const examples: TokenExample[] = [{ ids: [256, 72, 105, 33, 10] }, { ids: [256, 65, 66, 67] }];
    const config: TrainConfig = {
      ...defaultTrainConfig,
      optimizer: 'sgd',
      lr: 0.5,
      schedule: 'constant',
      maxGradNorm: 0,
      shuffle: false,
      steps: 1,
      batchSize: 2,
      seqLen: 16,
    };
    const updated = async (gradientCheckpointing: boolean) => {
      const lora = new LoraAdaptation(runtime, model, { r: 4, alpha: 8, dropout: 0.1, seed: 2 });
      for await (const _ of new Trainer(
        runtime,
        model,
        lora,
        { ...config, gradientCheckpointing },
        examples,
      ).run());
      return Promise.all(lora.trainable().map((e) => downloadTensor(runtime.arena, e.param)));
    };
    const plain = await updated(false);
    // LoRA's B moved off zero.
    expect(plain[1]?.some((v) => v !== 0)).toBe(true);
    const checkpointed = await updated(true);
    expect(checkpointed).toEqual(plain);
  });
});
