/**
 * QLoRA's frozen base: the decoder layers' matrices quantized to NF4 (weight-storage.ts). LoRA, DoRA
 * and IA3 (the three ways a base matrix is read: plain, through DoRA's norm, scaled) train exactly as
 * on f32 weights holding the dequantized values (so the kernels read NF4
 * right in every place a model reads its base), in a fraction of the memory, with the whole run's peak
 * within 10% of the plan; the
 * embeddings, LM head, norms and biases are left as they were; generation agrees too.
 */

import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { dequantizeNf4, quantizeNf4 } from '../../numeric/nf4';
import { type TinyModelOptions, tinyModelFiles } from '../fixtures/tiny-models';
import { Generator } from '../generate/generator';
import { type Checkpoint, openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { FullFineTuning } from '../peft/full';
import { planMemory } from '../plan/memory-plan';
import type { MethodSettings } from '../plan/method-settings';
import { defaultTrainConfig } from '../train-config';
import { openRun } from '../worker/run-engine';
import type { RunSpec } from '../worker/run-spec';
import { withBaseQuantization } from './config';
import { createDecoderModel } from './create-model';
import { trainFourSteps } from './testing/train-four-steps';
import { storedDtype, type WeightUse } from './weight-storage';

/** The checkpoint with its NF4 matrices as f32 holding what NF4 stores: the same model, unquantized. */
function dequantized(checkpoint: Checkpoint, use: WeightUse): Checkpoint {
  const quantized = withBaseQuantization(checkpoint.config, 'nf4');
  return {
    ...checkpoint,
    async read(name) {
      const values = await checkpoint.read(name);
      const shape = checkpoint.weights.get(name)?.shape ?? [];
      if (storedDtype(quantized, use, name, shape) !== 'nf4') return values;
      return dequantizeNf4(quantizeNf4(values), values.length);
    },
  };
}

async function open(model: TinyModelOptions, quantized: boolean, use: WeightUse): Promise<Checkpoint> {
  const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles(model)));
  if (quantized) return { ...checkpoint, config: withBaseQuantization(checkpoint.config, 'nf4') };
  return dequantized(checkpoint, use);
}

/** Four steps on the NF4 base, or on f32 weights holding what NF4 stores. */
async function train(model: TinyModelOptions, method: MethodSettings, quantized: boolean) {
  const checkpoint = await open(model, quantized, method.method);
  const run = await trainFourSteps(checkpoint, method, method.method);
  return { ...run, nf4Tensors: run.dtypes.filter((d) => d === 'nf4').length, config: checkpoint.config };
}

describe('a frozen base quantized to NF4', () => {
  it.each<[TinyModelOptions, MethodSettings]>([
    [{ family: 'llama' }, { method: 'lora', r: 4 }],
    [
      { family: 'qwen2', weightDtype: 'BF16' },
      { method: 'dora', r: 4 },
    ],
    [{ family: 'gpt2' }, { method: 'ia3' }],
    [
      { family: 'gemma3', weightDtype: 'BF16' },
      { method: 'lora', r: 4 },
    ],
  ])('%j trains %j as on the dequantized weights, in less memory, as planned', async (options, method) => {
    const model = { ...options, hiddenSize: 64, intermediateSize: 96 };
    const nf4 = await train(model, method, true);
    const reference = await train(model, method, false);
    // At least 4 matrices (GPT-2's c_attn, c_proj, c_fc, c_proj) in each of the 2 layers.
    expect(nf4.nf4Tensors).toBeGreaterThanOrEqual(2 * 4);
    expect(reference.nf4Tensors).toBe(0);
    expect(nf4.losses).toHaveLength(4);
    for (const [i, loss] of nf4.losses.entries())
      expect(Math.abs(loss - (reference.losses[i] as number))).toBeLessThan(1e-4 * Math.abs(loss));
    expect(nf4.weightBytes).toBeLessThan(0.75 * reference.weightBytes);
    const plan = planMemory(nf4.config, method, { batchSize: 2, seqLen: 16 });
    expect(plan.quantizedWeights).toBe(true);
    expect(plan.components.weights / nf4.weightBytes).toBeCloseTo(1, 1);
    const ratio = plan.totalBytes / nf4.peak;
    expect(ratio, `plan ${plan.totalBytes} B, measured peak ${nf4.peak} B`).toBeGreaterThan(0.9);
    expect(ratio, `plan ${plan.totalBytes} B, measured peak ${nf4.peak} B`).toBeLessThan(1.1);
  });

  it('quantizes only the layer matrices: embeddings, head, norms and biases stay as stored', async () => {
    const runtime = await testRuntime();
    const llama = await open({ family: 'llama', tieWordEmbeddings: false }, true, 'lora');
    const params = (await createDecoderModel(runtime, llama, 'lora')).params;
    const dtypes = Object.fromEntries([...params].map(([name, t]) => [name, t.dtype]));
    expect(dtypes['model.layers.0.self_attn.q_proj.weight']).toBe('nf4');
    expect(dtypes['model.layers.1.mlp.down_proj.weight']).toBe('nf4');
    expect(dtypes['model.embed_tokens.weight']).toBe('f32');
    expect(dtypes['lm_head.weight']).toBe('f32');
    expect(dtypes['model.layers.0.input_layernorm.weight']).toBe('f32');
    const gpt2 = await open({ family: 'gpt2', weightDtype: 'F16' }, true, 'lora');
    const gpt2Params = (await createDecoderModel(runtime, gpt2, 'lora')).params;
    expect(gpt2Params.get('h.0.attn.c_attn.weight')?.dtype).toBe('nf4');
    expect(gpt2Params.get('h.0.attn.c_attn.bias')?.dtype).toBe('f32');
    expect(gpt2Params.get('wte.weight')?.dtype).toBe('f16');
    expect(gpt2Params.get('wpe.weight')?.dtype).toBe('f16');
  });

  it('generates the same greedy tokens as the dequantized model', async () => {
    const runtime = await testRuntime();
    const model = { family: 'qwen2', seed: 3 } as const;
    const tokens = async (quantized: boolean) => {
      const checkpoint = await open(model, quantized, 'inference');
      const generator = new Generator(
        runtime,
        await createDecoderModel(runtime, checkpoint, 'inference'),
        24,
      );
      return generator.generate([72, 101, 108], { maxNewTokens: 8 });
    };
    expect(await tokens(true)).toEqual(await tokens(false));
  });

  it('loads f32 for full fine-tuning, which refuses a base loaded quantized', async () => {
    const runtime = await testRuntime();
    const checkpoint = await open({ family: 'llama' }, true, 'full');
    const full = await createDecoderModel(runtime, checkpoint, 'full');
    expect([...full.params.values()].every((t) => t.dtype === 'f32')).toBe(true);
    expect(
      planMemory(checkpoint.config, { method: 'full' }, { batchSize: 1, seqLen: 8 }).quantizedWeights,
    ).toBe(false);
    const frozen = await createDecoderModel(runtime, checkpoint, 'lora');
    expect(() => new FullFineTuning(runtime, frozen)).toThrow(
      /quantized to NF4.*full fine-tuning trains it in f32/,
    );
  });

  it("loads the worker's run on an NF4 base when the run asks, and refuses it for full fine-tuning", async () => {
    const runtime = await testRuntime();
    const modelFiles = Object.fromEntries(
      Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, value]) => [
        name,
        typeof value === 'string' ? new TextEncoder().encode(value) : value,
      ]),
    );
    const spec: RunSpec = {
      modelFiles,
      modelName: 'tiny',
      method: { method: 'lora', r: 4, alpha: 8, dropout: 0 },
      baseQuantization: 'nf4',
      train: { ...defaultTrainConfig, steps: 1, batchSize: 1, seqLen: 16 },
      trainTexts: ['the quick brown fox'],
    };
    const run = await openRun(runtime, spec, new AbortController().signal);
    try {
      const params = run.scoring?.().model.params;
      expect(params?.get('model.layers.0.self_attn.q_proj.weight')?.dtype).toBe('nf4');
    } finally {
      run.release();
    }
    await expect(
      openRun(runtime, { ...spec, method: { method: 'full' } }, new AbortController().signal),
    ).rejects.toThrow(/Full fine-tuning trains every weight in f32, so its base cannot be quantized/);
  });
});
