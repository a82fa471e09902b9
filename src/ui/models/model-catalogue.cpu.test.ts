/**
 * The picker's numbers: each curated model's parameter count (computed by the planner from its config
 * shape fields) equals the published count; the shape fields equal the hub config.json copies in
 * /work/shared/hf-fixtures where one exists; download sizes and per-method estimates follow from them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nf4Bytes } from '../../numeric/nf4';
import { type DecoderConfig, parseModelConfig } from '../../train/models/config';
import { expectedWeights } from '../../train/models/weight-shapes';
import { defaultRunSetup } from '../state/run-setup';
import { curatedModels } from './curated-models';
import { builtinTinyBert, builtinTinyLlama, configOf, encoderConfigOf, taskOf } from './model-catalogue';
import {
  curatedConfig,
  curatedParameters,
  downloadEstimateBytes,
  estimateKey,
  estimateMethod,
  limitsFor,
  memoryBudgetBytes,
  modelParameters,
  planAllMethods,
  webGpuDefaultLimits,
  withFits,
} from './model-estimates';

const byLabel = (label: string) => {
  const model = curatedModels.find((m) => m.label === label);
  if (!model) throw new Error(`no curated ${label}`);
  return model;
};
const paramsOf = (label: string) => modelParameters(parseModelConfig(byLabel(label).config));

describe('curated model catalogue', () => {
  it('computes the published parameter counts from the config shapes', () => {
    expect(paramsOf('SmolLM2-135M')).toBe(134_515_008);
    expect(paramsOf('SmolLM2-135M-Instruct')).toBe(134_515_008);
    expect(paramsOf('SmolLM2-360M-Instruct')).toBe(361_821_120);
    expect(paramsOf('GPT-2')).toBe(124_439_808);
    expect(paramsOf('distilgpt2')).toBe(81_912_576);
    expect(paramsOf('Qwen2.5-0.5B-Instruct')).toBe(494_032_768);
    expect(paramsOf('TinyLlama-1.1B-Chat')).toBe(1_100_048_384);
    // Qwen3-0.6B's model card: 0.6B parameters, 0.44B of them outside the embedding.
    expect(paramsOf('Qwen3-0.6B')).toBe(596_049_920);
    expect(paramsOf('Qwen3-0.6B') - 151936 * 1024).toBe(440_467_456);
    expect(paramsOf('SmolLM3-3B')).toBe(3_075_098_624);
    expect(paramsOf('Llama-3.2-1B-Instruct')).toBe(1_235_814_400);
    // Gemma 3 270M: 170M in the embedding, 100M in the layers (Google's announcement).
    expect(paramsOf('Gemma-3-270M-it')).toBe(268_098_176);
    expect(paramsOf('Gemma-3-270M-it') - 262144 * 640).toBe(100_326_016);
    expect(paramsOf('Gemma-3-1B-it')).toBe(999_885_952);
    expect(paramsOf('Gemma-2-2B-it')).toBe(2_614_341_888);
    for (const m of curatedModels) expect(curatedParameters(m), m.label).toBe(m.publishedParameters);
  });

  it('counts the encoders as their two-label sequence classifiers, and marks them classification', () => {
    const encoders = curatedModels.filter((m) => m.task === 'classification');
    expect(encoders.map((m) => [m.label, curatedParameters(m)])).toEqual([
      ['BERT-base (uncased)', 109_483_778],
      ['DistilBERT-base (uncased)', 66_955_010],
      ['RoBERTa-base', 124_647_170],
      // 277,453,056 in the encoder without a pooler (as the classifier has none), 592,130 in the head.
      ['XLM-RoBERTa-base', 278_045_186],
      ['BERT-Tiny (uncased)', 4_386_178],
    ]);
    // A decoder's config is not an encoder's: the planner refuses it, so decoders stay causal LMs.
    for (const m of encoders) expect(() => parseModelConfig(m.config), m.label).toThrow();
  });

  it('offers the built-in tiny BERT as an offline classifier with two labels', () => {
    expect(taskOf(builtinTinyBert)).toBe('classification');
    expect(taskOf(builtinTinyLlama)).toBe('causal-lm');
    const c = encoderConfigOf(builtinTinyBert);
    expect([c.family, c.L, c.C, c.K]).toEqual(['bert', 1, 32, 2]);
    expect(builtinTinyBert.maxSeqLen).toBe(c.P);
    expect(Object.keys(builtinTinyBert.files()).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
  });

  const fixtures: [string, string][] = [
    ['GPT-2', '/work/shared/hf-fixtures/gpt2/config.json'],
    ['Qwen2.5-0.5B-Instruct', '/work/shared/hf-fixtures/qwen2.5-0.5b-instruct/not-exact/config.json'],
    ['TinyLlama-1.1B-Chat', '/work/shared/hf-fixtures/tinyllama-1.1b-chat-v1.0/not-exact/config.json'],
  ];
  it.skipIf(!existsSync('/work/shared/hf-fixtures'))(
    'holds the same shapes as the hub config.json copies in hf-fixtures',
    () => {
      for (const [label, path] of fixtures) {
        const hub = parseModelConfig(JSON.parse(readFileSync(path, 'utf8')));
        const ours = parseModelConfig(byLabel(label).config);
        for (const key of ['V', 'C', 'L', 'NH', 'KV', 'D', 'F', 'P', 'tieWordEmbeddings', 'qkvBias'] as const)
          expect(ours[key], `${label} ${key}`).toBe(hub[key]);
        expect(modelParameters(ours)).toBe(modelParameters(hub));
      }
    },
  );

  it('estimates the download as the stored values × the stored dtype size, as the hub files measure', () => {
    const download = (label: string) =>
      downloadEstimateBytes(byLabel(label), curatedParameters(byLabel(label)));
    expect(download('SmolLM2-135M')).toBe(2 * 134_515_008);
    // The hub's file sizes (MB, 10⁶ bytes): GPT-2 and distilgpt2 store their causal-mask buffers too,
    // Qwen3-0.6B a copy of its tied embedding.
    const hubMegabytes = {
      'GPT-2': 548,
      distilgpt2: 353,
      'Qwen3-0.6B': 1500,
      'SmolLM3-3B': 6150,
      'Llama-3.2-1B-Instruct': 2470,
      'TinyLlama-1.1B-Chat': 2200,
      'Gemma-3-270M-it': 536,
      'Gemma-3-1B-it': 2000,
      'Gemma-2-2B-it': 5230,
    };
    for (const [label, mb] of Object.entries(hubMegabytes))
      expect(Math.abs(download(label) / 1e6 - mb) / mb, label).toBeLessThan(0.005);
  });
});

describe('per-method estimates against limits', () => {
  const setup = defaultRunSetup(builtinTinyLlama.id);
  const limits = limitsFor({ status: 'probing', report: null, error: null }, memoryBudgetBytes('4'));

  it('falls back to the WebGPU default limits until the adapter reports, and reads the budget in GiB', () => {
    expect(limits).toMatchObject({
      source: 'defaults',
      ...webGpuDefaultLimits,
      memoryBudgetBytes: 4 * 2 ** 30,
    });
    expect(memoryBudgetBytes('0.5')).toBe(2 ** 29);
    expect(memoryBudgetBytes('1e-')).toBe(4 * 2 ** 30); // half-typed: the planner's default
  });

  it('fits the built-in model with every method, and refuses TinyLlama full fine-tuning in 4 GiB', () => {
    const builtin = withFits(planAllMethods(configOf(builtinTinyLlama), setup), limits);
    expect(builtin.map((e) => e.method)).toEqual([
      'full',
      'lora',
      'dora',
      'ia3',
      'prefix',
      'prompt',
      'adapter',
    ]);
    expect(builtin.every((e) => 'fit' in e && e.fit.fits)).toBe(true);
    // GPT-2 has no q_proj: LoRA is planned on its PEFT default target (c_attn) instead of failing.
    const gpt2 = withFits(planAllMethods(parseModelConfig(byLabel('GPT-2').config), setup), limits);
    expect(gpt2.every((e) => 'fit' in e)).toBe(true);
    const tinyLlama = parseModelConfig(byLabel('TinyLlama-1.1B-Chat').config);
    const full = estimateMethod(tinyLlama, setup, 'full', limits);
    expect(full.fit.fits).toBe(false);
    // Weights alone are 4.4 GB in fp32, over the 4 GiB budget; the embedding is over 128 MiB per buffer.
    expect(full.plan.components.weights).toBeGreaterThanOrEqual(4 * 1_100_048_384);
    expect(full.fit.problems.join(' ')).toMatch(/budget/);
    expect(full.fit.problems.join(' ')).toMatch(/per buffer/);
  });

  it('plans a BF16 hub model’s frozen matrices at 2 bytes for LoRA, as the run loads them, and f32 for full', () => {
    const smol = byLabel('SmolLM2-135M');
    expect(smol.dtype).toBe('bfloat16');
    const config = curatedConfig(smol);
    const lora = estimateMethod(config, setup, 'lora', limits).plan;
    const full = estimateMethod(config, setup, 'full', limits).plan;
    expect(lora.halfWeights).toBe(true);
    expect(full.components.weights).toBe(4 * curatedParameters(smol));
    // Only the 61 norm vectors of 576 stay f32.
    expect(lora.components.weights).toBe(2 * curatedParameters(smol) + 2 * 61 * 576);
    const gpt2 = estimateMethod(curatedConfig(byLabel('GPT-2')), setup, 'lora', limits).plan;
    expect(gpt2.halfWeights).toBe(false);
  });

  it('plans the layer matrices at 4.5 bits a weight on an NF4 base, for every method but full', () => {
    const config = curatedConfig(byLabel('SmolLM2-135M'));
    const quantized = { ...setup, quantizeBase: true };
    const lora = estimateMethod(config, quantized, 'lora', limits).plan;
    expect(lora.quantizedWeights).toBe(true);
    // The tied embedding stays 16-bit, the norms f32; every layer matrix takes 36 bytes per 64 weights.
    let expected = 0;
    for (const [name, dims] of expectedWeights(config as DecoderConfig)) {
      const size = dims.reduce((a, b) => a * b, 1);
      expected += dims.length === 1 ? 4 * size : name.startsWith('model.layers.') ? nf4Bytes(size) : 2 * size;
    }
    expect(lora.components.weights).toBe(expected);
    expect(lora.components.weights).toBeLessThan(
      0.45 * estimateMethod(config, setup, 'lora', limits).plan.components.weights,
    );
    const full = estimateMethod(config, quantized, 'full', limits).plan;
    expect(full.quantizedWeights).toBe(false);
    expect(full.components.weights).toBe(4 * curatedParameters(byLabel('SmolLM2-135M')));
  });

  it('updates the plan as the setup changes: rank → trainable count, batch → activations', () => {
    const c = configOf(builtinTinyLlama);
    const at = (fields: Partial<typeof setup.fields>, method: 'lora' | 'full' = 'lora') =>
      estimateMethod(c, { ...setup, fields: { ...setup.fields, ...fields } }, method, limits).plan;
    // LoRA on q_proj and v_proj: per layer r·(C + C) for q and r·(C + KV·D) for v.
    const loraCount = (r: number) => c.L * (r * (c.C + c.NH * c.D) + r * (c.C + c.KV * c.D));
    expect(at({ loraR: '4' }).parameters.trainable).toBe(loraCount(4));
    expect(at({ loraR: '16' }).parameters.trainable).toBe(loraCount(16));
    const small = at({ batchSize: '1' }, 'full');
    const large = at({ batchSize: '4' }, 'full');
    expect(large.components.activations).toBeGreaterThan(small.components.activations);
    expect(large.components.weights).toBe(small.components.weights);
    // While a field is half-typed the plan keeps the default instead of failing.
    expect(at({ loraR: '' }).parameters.trainable).toBe(loraCount(8));
  });
});

describe('the estimates key', () => {
  it('changes with every setup field the estimates read, and only with those', () => {
    const base = defaultRunSetup(builtinTinyLlama.id);
    const limits = limitsFor({ status: 'probing', report: null, error: null }, memoryBudgetBytes('4'));
    const config = parseModelConfig(byLabel('SmolLM2-135M').config);
    const totals = (setup: typeof base) =>
      JSON.stringify(
        withFits(planAllMethods(config, setup), limits).map((e) =>
          'plan' in e ? e.plan.totalBytes : e.error,
        ),
      );
    const variants = [
      ...Object.keys(base.fields).map((field) => ({ ...base, fields: { ...base.fields, [field]: '3' } })),
      {
        ...base,
        loraTargets: base.loraTargets === 'all-linear' ? 'peft-default' : 'all-linear',
      } as typeof base,
      { ...base, quantizeBase: !base.quantizeBase },
      { ...base, maskPrompt: !base.maskPrompt },
      { ...base, optimizer: 'sgd' as const },
      { ...base, gradientCheckpointing: !base.gradientCheckpointing },
      { ...base, schedule: 'cosine' as const },
    ];
    let keyed = 0;
    for (const variant of variants) {
      const sameKey = estimateKey(variant) === estimateKey(base);
      // A change the estimates see must change the key; the key may name nothing the estimates ignore.
      expect(sameKey && totals(variant) !== totals(base), JSON.stringify(variant.fields)).toBe(false);
      if (!sameKey) {
        keyed++;
        expect(totals(variant), JSON.stringify(variant.fields)).not.toBe(totals(base));
      }
    }
    // batch size, sequence length, LoRA rank, virtual tokens, reduction factor, LoRA targets, the NF4 base,
    // gradient accumulation, the optimizer and gradient checkpointing.
    expect(keyed).toBe(10);
  });
});
