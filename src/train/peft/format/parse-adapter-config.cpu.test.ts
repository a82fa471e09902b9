import { describe, expect, it } from 'vitest';
import { tinyConfigJson } from '../../fixtures/tiny-models';
import { parseModelConfig } from '../../models/config';
import {
  adapterConfigFields,
  adapterConfigJson,
  ia3AdapterConfig,
  loraAdapterConfig,
  parseAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from './adapter-config';
import { AdapterConfigError, UnsupportedAdapterFeatureError, UnsupportedPeftTypeError } from './errors';

const llama = parseModelConfig(tinyConfigJson({ family: 'llama' }, 64, 1, 2));
const gpt2 = parseModelConfig(tinyConfigJson({ family: 'gpt2' }, 64, 1, 2));

const lora = loraAdapterConfig(llama, { r: 8, alpha: 16, dropout: 0.05 });
const loraJson = () => JSON.parse(adapterConfigJson(lora)) as Record<string, unknown>;

describe('parseAdapterConfig', () => {
  it('reads back every config it writes', () => {
    const configs = [
      lora,
      loraAdapterConfig(gpt2, { r: 4, alpha: 5.5, taskType: 'SEQ_CLS', useDora: true, useRslora: true }),
      loraAdapterConfig(llama, { r: 2, alpha: 4, targetModules: 'all-linear', revision: 'main' }),
      ia3AdapterConfig(llama),
      ia3AdapterConfig(gpt2, { targetModules: 'all-linear' }),
      promptTuningAdapterConfig(gpt2, {
        numVirtualTokens: 8,
        init: { text: 'Hi', tokenizerNameOrPath: 'gpt2' },
      }),
      promptTuningAdapterConfig(llama, { numVirtualTokens: 3, taskType: 'SEQ_CLS' }),
      prefixTuningAdapterConfig(llama, { numVirtualTokens: 4, baseModelNameOrPath: 'x/y' }),
    ];
    for (const c of configs) {
      expect(parseAdapterConfig(adapterConfigJson(c))).toEqual(c);
      expect(parseAdapterConfig(JSON.parse(adapterConfigJson(c)))).toEqual(c);
    }
  });

  it('reads an old file with few fields (PEFT defaults fill the rest) and a regex target', () => {
    const c = parseAdapterConfig({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 16,
      lora_alpha: 32,
      target_modules: '.*\\.(q_proj|v_proj)',
      enable_lora: null,
      merge_weights: false,
    });
    expect(c).toMatchObject({ r: 16, loraAlpha: 32, loraDropout: 0, targetModules: '.*\\.(q_proj|v_proj)' });
    expect(c).toMatchObject({ peftVersion: null, modulesToSave: null, useDora: false, fanInFanOut: false });
  });

  it('accepts a field from a newer PEFT while it is off, and refuses it when it is on', () => {
    expect(parseAdapterConfig({ ...loraJson(), kasa_config: null })).toEqual(lora);
    expect(() => parseAdapterConfig({ ...loraJson(), kasa_config: { beta: 1e-4 } })).toThrow(
      /kasa_config.*newer PEFT/,
    );
  });

  it('ignores inert fields whatever their value', () => {
    const c = parseAdapterConfig({
      ...loraJson(),
      inference_mode: false,
      megatron_core: 'x',
      auto_mapping: {},
    });
    expect(c).toEqual(lora);
  });

  it('names an unsupported peft_type and lists the supported ones', () => {
    const loha = { ...adapterConfigFields(lora), peft_type: 'LOHA' };
    expect(() => parseAdapterConfig(loha)).toThrow(UnsupportedPeftTypeError);
    expect(() => parseAdapterConfig(loha)).toThrow('"LOHA"');
    expect(() => parseAdapterConfig(loha)).toThrow('LORA, IA3, PROMPT_TUNING, PREFIX_TUNING');
    expect(() => parseAdapterConfig({ peft_type: 7 })).toThrow(UnsupportedPeftTypeError);
  });

  it('refuses files that are not adapter configs', () => {
    expect(() => parseAdapterConfig('{"r": 8,')).toThrow(AdapterConfigError);
    expect(() => parseAdapterConfig('[1]')).toThrow(/JSON object/);
    expect(() => parseAdapterConfig({ r: 8 })).toThrow(/no peft_type/);
  });

  it.each([
    ['r', 0, AdapterConfigError, /"r" must be a positive integer/],
    ['lora_alpha', 'x', AdapterConfigError, /"lora_alpha" must be a finite number/],
    ['lora_dropout', 1.5, AdapterConfigError, /lora_dropout 1.5/],
    ['use_dora', 'yes', AdapterConfigError, /"use_dora" must be true or false/],
    ['target_modules', null, AdapterConfigError, /"target_modules" must be a list/],
    ['base_model_name_or_path', 3, AdapterConfigError, /must be a string or null/],
    ['modules_to_save', 'score', AdapterConfigError, /list of strings/],
    ['task_type', 'SEQ_2_SEQ_LM', UnsupportedAdapterFeatureError, /CAUSAL_LM and SEQ_CLS/],
    ['task_type', null, UnsupportedAdapterFeatureError, /task_type = null/],
    ['modules_to_save', ['lm_head'], UnsupportedAdapterFeatureError, /lm_head would be/],
    ['rank_pattern', { q_proj: 4 }, UnsupportedAdapterFeatureError, /per-module ranks/],
    ['bias', 'all', UnsupportedAdapterFeatureError, /bias "none"/],
    ['init_lora_weights', 'pissa', UnsupportedAdapterFeatureError, /rewrites the base weights/],
    ['use_qalora', true, UnsupportedAdapterFeatureError, /use_qalora = true/],
    ['layers_to_transform', [0], UnsupportedAdapterFeatureError, /only some layers/],
  ])('LoRA field %s = %j is refused', (field, value, type, message) => {
    const bad = { ...loraJson(), [field]: value };
    expect(() => parseAdapterConfig(bad)).toThrow(type);
    expect(() => parseAdapterConfig(bad)).toThrow(message);
  });

  it('refuses IA3, prompt and prefix configs that PEFT or Whetstone cannot use', () => {
    const ia3 = JSON.parse(adapterConfigJson(ia3AdapterConfig(llama)));
    expect(() => parseAdapterConfig({ ...ia3, feedforward_modules: ['o_proj'] })).toThrow(
      /subset of target_modules/,
    );
    const prompt = JSON.parse(adapterConfigJson(promptTuningAdapterConfig(gpt2, { numVirtualTokens: 2 })));
    expect(() => parseAdapterConfig({ ...prompt, prompt_tuning_init: 'TEXT' })).toThrow(
      /needs prompt_tuning_init_text/,
    );
    expect(() => parseAdapterConfig({ ...prompt, prompt_tuning_init: 'ZEROS' })).toThrow(AdapterConfigError);
    expect(() => parseAdapterConfig({ ...prompt, num_virtual_tokens: null })).toThrow(/num_virtual_tokens/);
    const prefix = JSON.parse(adapterConfigJson(prefixTuningAdapterConfig(llama, { numVirtualTokens: 2 })));
    // A projected prefix is saved as the MLP's output, so it reads like any other.
    expect(parseAdapterConfig({ ...prefix, prefix_projection: true, encoder_hidden_size: 24 })).toMatchObject(
      {
        prefixProjection: true,
        encoderHiddenSize: 24,
      },
    );
    expect(() => parseAdapterConfig({ ...prefix, prefix_projection: 'yes' })).toThrow(AdapterConfigError);
    expect(() => parseAdapterConfig({ ...prefix, num_transformer_submodules: 2 })).toThrow(/encoder-decoder/);
    expect(() => parseAdapterConfig({ ...prefix, token_dim: 15 })).toThrow(
      /not a multiple of num_attention_heads/,
    );
    expect(parseAdapterConfig({ ...prefix, encoder_hidden_size: null })).toMatchObject({
      encoderHiddenSize: 16,
    });
  });
});
