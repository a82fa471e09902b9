/**
 * The expected files below are written by hand from PEFT v0.20.0's config dataclasses (peft/config.py,
 * tuners/{lora,ia3,prompt_tuning,prefix_tuning}/config.py): every dataclass field, as
 * json.dumps(asdict(config), indent=2, sort_keys=True) prints it after PeftModel.save_pretrained set
 * inference_mode true.
 */
import { describe, expect, it } from 'vitest';
import { tinyConfigJson } from '../../fixtures/tiny-models';
import { parseModelConfig } from '../../models/config';
import {
  adapterConfigJson,
  ia3AdapterConfig,
  loraAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from './adapter-config';
import { AdapterConfigError, AdapterModelMismatchError, UnsupportedAdapterFeatureError } from './errors';

const llama = parseModelConfig(tinyConfigJson({ family: 'llama' }, 64, 1, 2)); // C 32, L 2, NH 4, KV 2, F 48
const gpt2 = parseModelConfig(tinyConfigJson({ family: 'gpt2' }, 64, 1, 2)); // C 32, L 2, NH 4, F 128

const peftLoraFile = `{
  "alora_invocation_tokens": null,
  "alpha_pattern": {},
  "arrow_config": null,
  "auto_mapping": null,
  "base_model_name_or_path": "whetstone/tiny-llama",
  "bias": "none",
  "corda_config": null,
  "ensure_weight_tying": false,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 16,
  "lora_bias": false,
  "lora_dropout": 0.05,
  "lora_ga_config": null,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "monteclora_config": null,
  "peft_type": "LORA",
  "peft_version": "0.20.0",
  "qalora_group_size": 16,
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "q_proj",
    "v_proj"
  ],
  "target_parameters": null,
  "task_type": "CAUSAL_LM",
  "trainable_token_indices": null,
  "use_bdlora": null,
  "use_dora": false,
  "use_qalora": false,
  "use_rslora": false,
  "velora_config": null
}`;

const peftIa3File = `{
  "auto_mapping": null,
  "base_model_name_or_path": "whetstone/tiny-llama",
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "feedforward_modules": [
    "down_proj"
  ],
  "inference_mode": true,
  "init_ia3_weights": true,
  "modules_to_save": null,
  "peft_type": "IA3",
  "peft_version": "0.20.0",
  "revision": null,
  "target_modules": [
    "down_proj",
    "k_proj",
    "v_proj"
  ],
  "task_type": "CAUSAL_LM"
}`;

const peftPromptTuningFile = `{
  "auto_mapping": null,
  "base_model_name_or_path": "openai-community/gpt2",
  "inference_mode": true,
  "modules_to_save": null,
  "num_attention_heads": 4,
  "num_layers": 2,
  "num_transformer_submodules": 1,
  "num_virtual_tokens": 8,
  "peft_type": "PROMPT_TUNING",
  "peft_version": "0.20.0",
  "prompt_tuning_init": "TEXT",
  "prompt_tuning_init_text": "Classify the sentiment:",
  "revision": null,
  "task_type": "CAUSAL_LM",
  "token_dim": 32,
  "tokenizer_kwargs": null,
  "tokenizer_name_or_path": "openai-community/gpt2"
}`;

// Llama has num_key_value_heads, so PEFT sizes the prefix by the KV heads: token_dim = 2 * 8.
const peftPrefixFile = `{
  "auto_mapping": null,
  "base_model_name_or_path": null,
  "encoder_hidden_size": 16,
  "inference_mode": true,
  "init_weights": null,
  "modules_to_save": null,
  "num_attention_heads": 2,
  "num_layers": 2,
  "num_transformer_submodules": 1,
  "num_virtual_tokens": 4,
  "peft_type": "PREFIX_TUNING",
  "peft_version": "0.20.0",
  "prefix_projection": false,
  "revision": null,
  "task_type": "CAUSAL_LM",
  "token_dim": 16
}`;

describe('adapter_config.json as PEFT writes it', () => {
  it('LoRA with PEFT default targets: every LoraConfig field, byte for byte', () => {
    const c = loraAdapterConfig(llama, {
      r: 8,
      alpha: 16,
      dropout: 0.05,
      baseModelNameOrPath: 'whetstone/tiny-llama',
    });
    expect(adapterConfigJson(c)).toBe(peftLoraFile);
  });

  it('LoRA on GPT-2 for SEQ_CLS with DoRA and rsLoRA: fan_in_fan_out, head in modules_to_save', () => {
    const c = loraAdapterConfig(gpt2, {
      r: 4,
      alpha: 16 * Math.SQRT2,
      taskType: 'SEQ_CLS',
      useDora: true,
      useRslora: true,
      baseModelNameOrPath: 'whetstone/tiny-llama',
    });
    const text = adapterConfigJson(c);
    expect(JSON.parse(text)).toEqual({
      ...JSON.parse(peftLoraFile),
      fan_in_fan_out: true,
      lora_alpha: 22.627416997969522,
      lora_dropout: 0,
      modules_to_save: ['classifier', 'score'],
      r: 4,
      target_modules: ['c_attn'],
      task_type: 'SEQ_CLS',
      use_dora: true,
      use_rslora: true,
    });
    expect(text).toContain('"lora_dropout": 0.0,');
    expect(text).toContain('"modules_to_save": [\n    "classifier",\n    "score"\n  ],');
  });

  it('LoRA "all-linear" is written as the full module paths, as PEFT >= 0.14 resolves it', () => {
    const c = loraAdapterConfig(llama, { r: 8, alpha: 8, targetModules: 'all-linear' });
    expect(c.targetModules).toHaveLength(14);
    expect(c.targetModules.slice(0, 8)).toEqual([
      'model.layers.0.mlp.down_proj',
      'model.layers.0.mlp.gate_proj',
      'model.layers.0.mlp.up_proj',
      'model.layers.0.self_attn.k_proj',
      'model.layers.0.self_attn.o_proj',
      'model.layers.0.self_attn.q_proj',
      'model.layers.0.self_attn.v_proj',
      'model.layers.1.mlp.down_proj',
    ]);
  });

  it('IA3 with PEFT default targets and feed-forward modules', () => {
    const c = ia3AdapterConfig(llama, { baseModelNameOrPath: 'whetstone/tiny-llama' });
    expect(adapterConfigJson(c)).toBe(peftIa3File);
    const g = ia3AdapterConfig(gpt2);
    expect([g.targetModules, g.feedforwardModules, g.fanInFanOut]).toEqual([
      ['c_attn', 'mlp.c_proj'],
      ['mlp.c_proj'],
      true,
    ]);
  });

  it('IA3 "all-linear" writes the feed-forward modules as full paths, so PEFT can reload it', () => {
    const c = ia3AdapterConfig(llama, { targetModules: 'all-linear' });
    expect(c.feedforwardModules).toEqual(['model.layers.0.mlp.down_proj', 'model.layers.1.mlp.down_proj']);
  });

  it('prompt tuning from text', () => {
    const c = promptTuningAdapterConfig(gpt2, {
      numVirtualTokens: 8,
      init: { text: 'Classify the sentiment:', tokenizerNameOrPath: 'openai-community/gpt2' },
      baseModelNameOrPath: 'openai-community/gpt2',
    });
    expect(adapterConfigJson(c)).toBe(peftPromptTuningFile);
    const random = promptTuningAdapterConfig(llama, { numVirtualTokens: 3 });
    expect([random.promptTuningInit, random.tokenDim, random.numAttentionHeads]).toEqual(['RANDOM', 32, 4]);
  });

  it('prefix tuning without projection, sized by the KV heads under grouped-query attention', () => {
    expect(adapterConfigJson(prefixTuningAdapterConfig(llama, { numVirtualTokens: 4 }))).toBe(peftPrefixFile);
    const g = prefixTuningAdapterConfig(gpt2, { numVirtualTokens: 4 });
    expect([g.tokenDim, g.numAttentionHeads, g.encoderHiddenSize]).toEqual([32, 4, 32]);
  });

  it('refuses configs PEFT would refuse, or that Whetstone cannot train', () => {
    expect(() => loraAdapterConfig(llama, { r: 0, alpha: 8 })).toThrow(AdapterConfigError);
    expect(() => loraAdapterConfig(llama, { r: 8, alpha: 8, dropout: 1 })).toThrow(AdapterConfigError);
    expect(() => loraAdapterConfig(llama, { r: 8, alpha: Number.NaN })).toThrow(AdapterConfigError);
    expect(() => loraAdapterConfig(llama, { r: 8, alpha: 8, targetModules: ['query'] })).toThrow(
      AdapterModelMismatchError,
    );
    expect(() => loraAdapterConfig(llama, { r: 8, alpha: 8, targetModules: ['q_proj', 'lm_head'] })).toThrow(
      UnsupportedAdapterFeatureError,
    );
    expect(() =>
      ia3AdapterConfig(llama, { targetModules: ['k_proj'], feedforwardModules: ['down_proj'] }),
    ).toThrow(/subset of target_modules/);
    expect(() =>
      promptTuningAdapterConfig(gpt2, { numVirtualTokens: 8, init: { text: 'x', tokenizerNameOrPath: '' } }),
    ).toThrow(/tokenizer_name_or_path/);
    expect(() => prefixTuningAdapterConfig(gpt2, { numVirtualTokens: 0 })).toThrow(AdapterConfigError);
  });
});
