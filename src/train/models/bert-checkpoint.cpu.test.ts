/** Encoder configs and checkpoints: HF field names and defaults, name canonicalisation, head init, named errors. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { filesFromMemory } from '../io/model-files';
import { writeSafetensors } from '../io/safetensors';
import { openEncoderCheckpoint } from './bert-checkpoint';
import { encoderArchitectureOf, parseEncoderConfig } from './bert-config';
import { canonicalEncoderWeightName } from './bert-weights';
import { ModelConfigError, ModelFilesError } from './errors';

const bertDir = new URL('../../../../shared/hf-fixtures/bert-base-uncased/', import.meta.url).pathname;

describe.runIf(existsSync(bertDir))('bert-base-uncased config.json (../shared/hf-fixtures)', () => {
  it('reads as a 12-layer BERT with a fresh two-class head', () => {
    const c = parseEncoderConfig(JSON.parse(readFileSync(`${bertDir}config.json`, 'utf8')));
    expect(c).toMatchObject({
      family: 'bert',
      V: 30522,
      C: 768,
      L: 12,
      NH: 12,
      D: 64,
      F: 3072,
      P: 512,
      TV: 2,
      K: 2,
    });
    expect(c.normEps).toBe(1e-12);
    expect(c.activation).toBe('gelu');
    expect(c.head).toEqual({ dense: 'bert.pooler.dense', activation: 'tanh', out: 'classifier' });
  });
});

describe('encoder configs', () => {
  it('takes num_labels from id2label, or an override', () => {
    const json = {
      architectures: ['BertForSequenceClassification'],
      vocab_size: 10,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
      id2label: { 0: 'no', 1: 'maybe', 2: 'yes' },
    };
    expect(parseEncoderConfig(json).labels).toEqual(['no', 'maybe', 'yes']);
    expect(parseEncoderConfig(json, 2).K).toBe(2);
    expect(() => parseEncoderConfig(json, 1)).toThrow(ModelConfigError);
  });

  it('recognises encoders by architecture or model_type, and only those', () => {
    expect(encoderArchitectureOf({ model_type: 'roberta' })).toBe('RobertaModel');
    expect(encoderArchitectureOf({ model_type: 'xlm-roberta' })).toBe('XLMRobertaModel');
    // xlm-roberta-base's config names its masked-LM class; its runs train RoBERTa's classifier.
    const xlmr = parseEncoderConfig({
      architectures: ['XLMRobertaForMaskedLM'],
      model_type: 'xlm-roberta',
      vocab_size: 250002,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 514,
      type_vocab_size: 1,
      layer_norm_eps: 1e-5,
      pad_token_id: 1,
    });
    expect(xlmr).toMatchObject({ family: 'roberta', base: 'roberta', TV: 1, padTokenId: 1 });
    expect(xlmr.head).toEqual({ dense: 'classifier.dense', activation: 'tanh', out: 'classifier.out_proj' });
    expect(encoderArchitectureOf({ architectures: ['LlamaForCausalLM'] })).toBeUndefined();
    expect(() => parseEncoderConfig({ architectures: ['GPT2LMHeadModel'] })).toThrow(
      /not describe an encoder/,
    );
  });

  it('refuses an activation it cannot run, by name', () => {
    const json = {
      model_type: 'bert',
      vocab_size: 10,
      hidden_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
      hidden_act: 'swish',
    };
    expect(() => parseEncoderConfig(json)).toThrow(/activation "swish"/);
  });
});

describe('encoder checkpoints', () => {
  it('canonicalises old and base-model names and skips pre-training heads', () => {
    const c = parseEncoderConfig(JSON.parse(tinyEncoderFiles({ family: 'bert' })['config.json'] as string));
    expect(canonicalEncoderWeightName(c, 'embeddings.LayerNorm.gamma')).toBe(
      'bert.embeddings.LayerNorm.weight',
    );
    expect(canonicalEncoderWeightName(c, 'bert.encoder.layer.0.output.LayerNorm.beta')).toBe(
      'bert.encoder.layer.0.output.LayerNorm.bias',
    );
    expect(canonicalEncoderWeightName(c, 'cls.predictions.bias')).toBeNull();
    expect(canonicalEncoderWeightName(c, 'bert.embeddings.position_ids')).toBeNull();
    const roberta = parseEncoderConfig(
      JSON.parse(tinyEncoderFiles({ family: 'roberta' })['config.json'] as string),
    );
    // RobertaModel files keep a pooler that RobertaForSequenceClassification does not have.
    expect(canonicalEncoderWeightName(roberta, 'pooler.dense.weight')).toBeNull();
    expect(canonicalEncoderWeightName(roberta, 'embeddings.word_embeddings.weight')).toBe(
      'roberta.embeddings.word_embeddings.weight',
    );
  });

  it('initialises a missing head as HF does: N(0, 0.02²) weights, zero biases', async () => {
    const files = tinyEncoderFiles({ family: 'bert', withHead: false, hiddenSize: 64, layers: 1 });
    const ckpt = await openEncoderCheckpoint(filesFromMemory(files));
    expect(ckpt.initialised.sort()).toEqual([
      'bert.pooler.dense.bias',
      'bert.pooler.dense.weight',
      'classifier.bias',
      'classifier.weight',
    ]);
    const w = await ckpt.read('bert.pooler.dense.weight');
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(std - 0.02) / 0.02).toBeLessThan(0.05);
    expect((await ckpt.read('classifier.bias')).every((v) => v === 0)).toBe(true);
  });

  it('replaces a head stored for another class count', async () => {
    const ckpt = await openEncoderCheckpoint(filesFromMemory(tinyEncoderFiles({ family: 'distilbert' })), {
      numLabels: 5,
    });
    expect(ckpt.initialised).toContain('classifier.weight');
    expect(ckpt.shapes.get('classifier.weight')).toEqual([5, 32]);
  });

  it('names every missing, misshapen and unexpected tensor at once', async () => {
    const files = tinyEncoderFiles({ family: 'bert', layers: 1 });
    const config = files['config.json'] as string;
    const bad = writeSafetensors(
      [
        { name: 'bert.embeddings.word_embeddings.weight', shape: [3, 32], data: new Float32Array(96) },
        { name: 'bert.mystery.weight', shape: [2], data: new Float32Array(2) },
      ],
      { format: 'pt' },
    );
    const open = openEncoderCheckpoint(filesFromMemory({ 'config.json': config, 'model.safetensors': bad }));
    await expect(open).rejects.toThrow(ModelFilesError);
    await expect(open).rejects.toThrow(/word_embeddings\.weight in model\.safetensors is \[3, 32\]/);
    await expect(open).rejects.toThrow(
      /missing \d+ tensor\(s\): bert\.embeddings\.position_embeddings\.weight/,
    );
    await expect(open).rejects.toThrow(/bert\.mystery\.weight/);
  });
});
