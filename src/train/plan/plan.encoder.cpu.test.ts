/**
 * The encoder planner without a GPU: real encoder shapes plan to their exact parameter counts (computed
 * here from the configs, independently of bert-weights.ts, and equal to the published counts); the class
 * count sizes the head; a method trains what it should; the plan says encoders have no gradient
 * checkpointing; `fits` refuses with advice; and `whetstone plan` plans an encoder's config.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runPlan } from '../../cli/plan';
import { curatedModels } from '../../ui/models/curated-models';
import { type EncoderConfig, parseEncoderConfig } from '../models/bert-config';
import { encoderCheckpointingNote, planEncoderMemory } from './encoder-plan';
import { MemoryPlanError } from './fit';
import { PlanSettingsError } from './method-settings';

const bertBaseConfig = new URL(
  '../../../../shared/hf-fixtures/bert-base-uncased/config.json',
  import.meta.url,
).pathname;
const haveBertBase = existsSync(bertBaseConfig);

/** *ForSequenceClassification's parameters from the config's shapes, head [K, C] included. */
function classifierParameters(c: EncoderConfig): number {
  const { V, C, F, L, P, TV, K } = c;
  const embeddings = V * C + P * C + TV * C + 2 * C;
  const layer = 4 * (C * C + C) + (C * F + F) + (F * C + C) + 4 * C;
  // BERT's pooler, DistilBERT's pre_classifier or RoBERTa's classifier.dense: C → C; then C → K.
  const head = C * C + C + K * C + K;
  return embeddings + L * layer + head;
}

const step = { batchSize: 8, seqLen: 128 };
const encoders = curatedModels.filter((m) => m.task === 'classification');

describe('the encoder planner on real shapes', () => {
  it.each(encoders.map((m) => [m.repo, m] as const))(
    'plans %s to its published parameter count',
    (_, model) => {
      const config = parseEncoderConfig(model.config, 2);
      const plan = planEncoderMemory(config, { method: 'full' }, step);
      expect(plan.parameters.total).toBe(classifierParameters(config));
      expect(plan.parameters.total).toBe(model.publishedParameters);
      expect(plan.parameters.trainable).toBe(plan.parameters.total);
      // A float32 gradient and AdamW's two moments per weight.
      expect(plan.components.weights).toBeGreaterThanOrEqual(4 * plan.parameters.total);
      expect(plan.components.optimizer).toBeGreaterThanOrEqual(8 * plan.parameters.total);
    },
  );
  it.skipIf(!haveBertBase)(
    'plans bert-base-uncased’s config.json (../shared) to 109,483,778 for 2 labels',
    () => {
      const config = parseEncoderConfig(JSON.parse(readFileSync(bertBaseConfig, 'utf8')));
      const plan = planEncoderMemory(config, { method: 'full' }, { ...step, numLabels: 2 });
      expect(plan.parameters.total).toBe(classifierParameters({ ...config, K: 2 }));
      expect(plan.parameters.total).toBe(109_483_778);
      // The largest buffer is the word-embedding table [V, C] (its gradient and moments are as large).
      expect(plan.largestBuffer.bytes).toBe(config.V * config.C * 4);
    },
  );
});

describe('the encoder plan of a method', () => {
  const bert = parseEncoderConfig(encoders[0]?.config);
  it('sizes the head by the number of labels', () => {
    const two = planEncoderMemory(bert, { method: 'full' }, { ...step, numLabels: 2 });
    const five = planEncoderMemory(bert, { method: 'full' }, { ...step, numLabels: 5 });
    expect(five.parameters.total - two.parameters.total).toBe(3 * (bert.C + 1));
    expect(five.settings.step).toMatchObject({ numLabels: 5 });
    expect(() => planEncoderMemory(bert, { method: 'full' }, { ...step, numLabels: 1 })).toThrow(
      PlanSettingsError,
    );
  });
  it('trains LoRA on query and value with the classifier beside it, as PEFT’s SEQ_CLS does', () => {
    const plan = planEncoderMemory(bert, { method: 'lora', r: 8 }, { ...step, numLabels: 3 });
    const lora = bert.L * 2 * (8 * bert.C + bert.C * 8);
    const classifier = 3 * bert.C + 3;
    expect(plan.parameters.trainable).toBe(lora + classifier);
    // The classifier is a base weight; only the adapters are added parameters.
    expect(plan.parameters.total).toBe(classifierParameters({ ...bert, K: 3 }) + lora);
    const full = planEncoderMemory(bert, { method: 'full' }, { ...step, numLabels: 3 });
    expect(plan.totalBytes).toBeLessThan(full.totalBytes - full.components.optimizer);
  });
  it('says encoders have no gradient checkpointing and reports the same figure either way', () => {
    const off = planEncoderMemory(bert, { method: 'full' }, step);
    const on = planEncoderMemory(bert, { method: 'full' }, { ...step, gradientCheckpointing: true });
    expect(on.notes).toContain(encoderCheckpointingNote);
    expect(on.totalBytes).toBe(off.totalBytes);
    expect(on.activationBytes.withCheckpointing).toBe(on.activationBytes.withoutCheckpointing);
    expect(on.activationBytes.withoutCheckpointing).toBeGreaterThan(0);
  });
  it('refuses a run over the budget with advice that applies to encoders', () => {
    const plan = planEncoderMemory(bert, { method: 'full' }, step);
    const fit = plan.fits({
      maxStorageBufferBindingSize: 2 ** 30,
      maxBufferSize: 2 ** 30,
      memoryBudgetBytes: 256 * 2 ** 20,
    });
    expect(fit.fits).toBe(false);
    expect(fit.advice.join('; ')).toMatch(/train LoRA instead of full fine-tuning/);
    expect(fit.advice.join('; ')).not.toMatch(/gradient checkpointing/);
    const perBuffer = plan.fits({ maxStorageBufferBindingSize: 2 ** 26, maxBufferSize: 2 ** 28 });
    expect(perBuffer.problems[0]).toMatch(/largest buffer \(bert\.embeddings\.word_embeddings\.weight/);
  });
  it('refuses prefix tuning on DistilBERT and a step longer than the positions', () => {
    const distil = parseEncoderConfig(encoders[1]?.config);
    expect(() => planEncoderMemory(distil, { method: 'prefix', numVirtualTokens: 4 }, step)).toThrow(
      /DistilBERT takes no past key\/values/,
    );
    expect(() =>
      planEncoderMemory(bert, { method: 'prompt', numVirtualTokens: 20 }, { batchSize: 1, seqLen: 500 }),
    ).toThrow(/at most 512 positions per row; this step has 520/);
  });
  it('is a MemoryPlanError when refused through classifier-memory', async () => {
    const { checkEncoderRunMemory } = await import('../classify/classifier-memory');
    const limits = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
    expect(() =>
      checkEncoderRunMemory(bert, { method: 'full' }, { B: 8, T: 128, memoryBudgetBytes: 2 ** 28 }, limits),
    ).toThrow(MemoryPlanError);
  });
});

describe('whetstone plan on an encoder config', () => {
  afterEach(() => vi.restoreAllMocks());
  it.skipIf(!haveBertBase)('plans bert-base-uncased with --num-labels', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const code = runPlan({ model: bertBaseConfig, 'num-labels': '4', method: 'lora', json: true });
    expect(code).toBe(0);
    const out = JSON.parse(lines.join(''));
    const config = parseEncoderConfig(JSON.parse(readFileSync(bertBaseConfig, 'utf8')), 4);
    const plan = planEncoderMemory(
      config,
      { method: 'lora', r: 8, dropout: 0.1 },
      { batchSize: 32, seqLen: 128, numLabels: 4 },
    );
    expect(out).toMatchObject({
      estimate: true,
      architecture: 'BertForMaskedLM',
      total_bytes: plan.totalBytes,
      parameters: plan.parameters,
      notes: [encoderCheckpointingNote],
    });
    expect(out.step).toMatchObject({ batchSize: 32, seqLen: 128, numLabels: 4 });
  });

  it('plans a config without model_type by its folder’s name, as transformers reads BERT-Tiny', () => {
    // google/bert_uncased_L-2_H-128_A-2's config.json names neither a model type nor an architecture.
    const untyped = {
      hidden_size: 128,
      hidden_act: 'gelu',
      initializer_range: 0.02,
      vocab_size: 30522,
      hidden_dropout_prob: 0.1,
      num_attention_heads: 2,
      type_vocab_size: 2,
      max_position_embeddings: 512,
      num_hidden_layers: 2,
      intermediate_size: 512,
      attention_probs_dropout_prob: 0.1,
    };
    const folder = join(mkdtempSync(join(tmpdir(), 'plan-')), 'bert_uncased_L-2_H-128_A-2');
    mkdirSync(folder);
    writeFileSync(join(folder, 'config.json'), JSON.stringify(untyped));
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    expect(runPlan({ model: folder, json: true })).toBe(0);
    const out = JSON.parse(lines.join(''));
    // BERT-Tiny with a two-class head: 4,386,178 parameters (embeddings 3,972,864, two layers of
    // 198,272, pooler 16,512, classifier 258).
    expect(out.parameters.total).toBe(4_386_178);
    expect(out.architecture).toBe('BertModel');
  });
});
