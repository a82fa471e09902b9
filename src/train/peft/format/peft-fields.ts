/**
 * Every field PEFT writes into adapter_config.json, with the default PEFT gives it, per method. The
 * writer fills a config from these tables, and the reader judges a field it does not map by comparing
 * with them. Source: PEFT v0.20.0 (the newest release), `dataclasses.asdict` over
 *   peft/config.py                      PeftConfigMixin, PeftConfig, PromptLearningConfig
 *   peft/tuners/lora/config.py          LoraConfig (its to_dict drops runtime_config)
 *   peft/tuners/ia3/config.py           IA3Config
 *   peft/tuners/prompt_tuning/config.py PromptTuningConfig
 *   peft/tuners/prefix_tuning/config.py PrefixTuningConfig
 * PEFT's main branch (0.20.1.dev0) adds one LoRA field, kasa_config (default null); a reader accepts it
 * at null as it accepts any unknown field at null. Older PEFT drops fields it does not know with a
 * warning (config.py, _check_and_remove_unused_kwargs), so writing these is safe for them too.
 */
import { PythonFloat, type PythonJson } from './python-json';

/** The PEFT release whose format this follows; written as peft_version, as PEFT records its own. */
export const peftFormatVersion = '0.20.0';

export type FieldTable = Readonly<Record<string, PythonJson>>;

/** PeftConfigMixin + PeftConfig. auto_mapping stays null because task_type is always set. */
export const peftConfigFields: FieldTable = {
  auto_mapping: null,
  base_model_name_or_path: null,
  inference_mode: false,
  peft_type: null,
  peft_version: null,
  revision: null,
  task_type: null,
};

export const loraFields: FieldTable = {
  ...peftConfigFields,
  alora_invocation_tokens: null,
  alpha_pattern: {},
  arrow_config: null,
  bias: 'none',
  corda_config: null,
  ensure_weight_tying: false,
  eva_config: null,
  exclude_modules: null,
  fan_in_fan_out: false,
  init_lora_weights: true,
  layer_replication: null,
  layers_pattern: null,
  layers_to_transform: null,
  loftq_config: {},
  lora_alpha: 8,
  lora_bias: false,
  lora_dropout: new PythonFloat(0),
  lora_ga_config: null,
  megatron_config: null,
  megatron_core: 'megatron.core',
  modules_to_save: null,
  monteclora_config: null,
  qalora_group_size: 16,
  r: 8,
  rank_pattern: {},
  target_modules: null,
  target_parameters: null,
  trainable_token_indices: null,
  use_bdlora: null,
  use_dora: false,
  use_qalora: false,
  use_rslora: false,
  velora_config: null,
};

export const ia3Fields: FieldTable = {
  ...peftConfigFields,
  exclude_modules: null,
  fan_in_fan_out: false,
  feedforward_modules: null,
  init_ia3_weights: true,
  modules_to_save: null,
  target_modules: null,
};

const promptLearningFields: FieldTable = {
  ...peftConfigFields,
  modules_to_save: null,
  num_attention_heads: null,
  num_layers: null,
  num_transformer_submodules: null,
  num_virtual_tokens: null,
  token_dim: null,
};

export const promptTuningFields: FieldTable = {
  ...promptLearningFields,
  prompt_tuning_init: 'RANDOM',
  prompt_tuning_init_text: null,
  tokenizer_kwargs: null,
  tokenizer_name_or_path: null,
};

export const prefixTuningFields: FieldTable = {
  ...promptLearningFields,
  encoder_hidden_size: null,
  init_weights: null,
  prefix_projection: false,
};

/**
 * Fields whose value does not change which tensors are saved or how they act at inference, so a reader
 * accepts any value: bookkeeping (peft_version, revision, auto_mapping), training-only switches
 * (inference_mode, init_ia3_weights, init_weights), and options inert without another one
 * (megatron_core without megatron_config, qalora_group_size without use_qalora, ensure_weight_tying
 * while no embedding is targeted).
 */
export const inertFields = new Set([
  'auto_mapping',
  'peft_version',
  'revision',
  'inference_mode',
  'init_ia3_weights',
  'init_weights',
  'megatron_core',
  'qalora_group_size',
  'ensure_weight_tying',
  'tokenizer_kwargs',
]);
