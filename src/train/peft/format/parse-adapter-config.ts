/**
 * Reads adapter_config.json (from PEFT or from Whetstone) into a typed config, or says precisely why
 * not. A field absent from an older file takes PEFT's default. A field the typed config does not hold
 * must be at PEFT's default (peft-fields.ts) unless it is inert; otherwise the adapter would mean
 * something Whetstone does not compute, and that is an UnsupportedAdapterFeatureError naming the field.
 * A field PEFT 0.20.0 does not know is accepted only at null/false/{}/[], as newer PEFT writes its new
 * options when they are off.
 */
import type {
  AdapterConfig,
  Ia3AdapterConfig,
  LoraAdapterConfig,
  PrefixTuningAdapterConfig,
  PromptTuningAdapterConfig,
  TargetModules,
  TaskType,
} from './adapter-config';
import {
  AdapterConfigError,
  supportedPeftTypes,
  UnsupportedAdapterFeatureError,
  UnsupportedPeftTypeError,
} from './errors';
import {
  type FieldTable,
  ia3Fields,
  inertFields,
  loraFields,
  prefixTuningFields,
  promptTuningFields,
} from './peft-fields';
import { PythonFloat, type PythonJson } from './python-json';

type Json = Record<string, unknown>;

const notSupported =
  'Whetstone does not support this PEFT option; retrain or convert the adapter without it.';
const reasons: Record<string, string> = {
  bias: 'Whetstone saves and reads adapters with bias "none" (no base-layer biases).',
  rank_pattern: 'every adapted module must share r; per-module ranks are not supported.',
  alpha_pattern: 'every adapted module must share lora_alpha; per-module alphas are not supported.',
  exclude_modules: 'excluding modules is not supported; list the targets instead.',
  layers_to_transform: 'adapting only some layers is not supported.',
  layers_pattern: 'adapting only some layers is not supported.',
  lora_bias: 'a bias on lora_B is not supported.',
};

function unwrap(value: PythonJson | undefined): unknown {
  return value instanceof PythonFloat ? value.value : value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Reads fields by PEFT name, remembering which were read, then judges the rest. */
class FieldReader {
  private readonly read = new Set<string>();

  constructor(
    private readonly raw: Json,
    private readonly table: FieldTable,
  ) {}

  value(key: string): unknown {
    this.read.add(key);
    return key in this.raw ? this.raw[key] : unwrap(this.table[key]);
  }

  private fail(key: string, wanted: string): never {
    throw new AdapterConfigError(
      `adapter_config.json: "${key}" must be ${wanted}, got ${JSON.stringify(this.raw[key])}.`,
    );
  }

  int(key: string): number {
    const v = this.value(key);
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : this.fail(key, 'a positive integer');
  }

  num(key: string): number {
    const v = this.value(key);
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(key, 'a finite number');
  }

  bool(key: string): boolean {
    const v = this.value(key);
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }

  str(key: string): string | null {
    const v = this.value(key);
    return v === null || typeof v === 'string' ? v : this.fail(key, 'a string or null');
  }

  strings(key: string): string[] | null {
    const v = this.value(key);
    if (v === null) return null;
    return Array.isArray(v) && v.every((s) => typeof s === 'string')
      ? v
      : this.fail(key, 'a list of strings');
  }

  targets(key: string): TargetModules {
    const v = this.value(key);
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...new Set(v as string[])].sort();
    return this.fail(key, 'a list of module names or a regex string (PEFT fills it before saving)');
  }

  /** Every field not read must be inert, at PEFT's default, or an unknown field left off. */
  finish(): void {
    for (const [key, value] of Object.entries(this.raw)) {
      if (this.read.has(key) || inertFields.has(key)) continue;
      if (key in this.table) {
        if (!sameJson(value, unwrap(this.table[key])))
          throw new UnsupportedAdapterFeatureError(key, value, reasons[key] ?? notSupported);
      } else if (!isOff(value)) {
        throw new UnsupportedAdapterFeatureError(
          key,
          value,
          `PEFT 0.20.0 has no such field (a newer PEFT option?), so Whetstone cannot tell what it changes.`,
        );
      }
    }
  }
}

function isOff(value: unknown): boolean {
  if (value === null || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

function common(f: FieldReader) {
  f.value('peft_type'); // already dispatched on
  const taskType = f.value('task_type');
  if (taskType !== 'CAUSAL_LM' && taskType !== 'SEQ_CLS') {
    throw new UnsupportedAdapterFeatureError(
      'task_type',
      taskType,
      'Whetstone reads CAUSAL_LM and SEQ_CLS adapters.',
    );
  }
  const modulesToSave = f.strings('modules_to_save');
  const allowed = taskType === 'SEQ_CLS' ? ['classifier', 'score'] : [];
  const other = (modulesToSave ?? []).filter((m) => !allowed.includes(m));
  if (other.length) {
    throw new UnsupportedAdapterFeatureError(
      'modules_to_save',
      modulesToSave,
      `Whetstone saves no module in full except a SEQ_CLS head (classifier/score); ${other.join(', ')} would be.`,
    );
  }
  return {
    taskType: taskType as TaskType,
    baseModelNameOrPath: f.str('base_model_name_or_path'),
    revision: f.str('revision'),
    peftVersion: f.str('peft_version'),
    modulesToSave,
  };
}

function readLora(raw: Json): LoraAdapterConfig {
  const f = new FieldReader(raw, loraFields);
  const init = f.value('init_lora_weights');
  if (init !== true && init !== false && init !== 'gaussian') {
    throw new UnsupportedAdapterFeatureError(
      'init_lora_weights',
      init,
      'PEFT re-runs this initialisation when it loads the adapter, and for PiSSA, OLoRA, CorDA, LoftQ and ' +
        'the like that rewrites the base weights; save it converted to plain LoRA (path_initial_model_for_weight_conversion).',
    );
  }
  const dropout = f.num('lora_dropout');
  if (dropout < 0 || dropout > 1)
    throw new AdapterConfigError(`adapter_config.json: lora_dropout ${dropout} is not in [0, 1].`);
  const config: LoraAdapterConfig = {
    peftType: 'LORA',
    ...common(f),
    r: f.int('r'),
    loraAlpha: f.num('lora_alpha'),
    loraDropout: dropout,
    targetModules: f.targets('target_modules'),
    fanInFanOut: f.bool('fan_in_fan_out'),
    useRslora: f.bool('use_rslora'),
    useDora: f.bool('use_dora'),
  };
  f.finish();
  return config;
}

function readIa3(raw: Json): Ia3AdapterConfig {
  const f = new FieldReader(raw, ia3Fields);
  const config: Ia3AdapterConfig = {
    peftType: 'IA3',
    ...common(f),
    targetModules: f.targets('target_modules'),
    feedforwardModules: f.targets('feedforward_modules'),
    fanInFanOut: f.bool('fan_in_fan_out'),
  };
  const { targetModules: t, feedforwardModules: ff } = config;
  if (typeof t !== 'string' && typeof ff !== 'string' && !ff.every((m) => t.includes(m))) {
    throw new AdapterConfigError(
      `adapter_config.json: feedforward_modules ${JSON.stringify(ff)} must be a subset of target_modules ` +
        `${JSON.stringify(t)}; PEFT refuses this config too.`,
    );
  }
  f.finish();
  return config;
}

function promptLearning(f: FieldReader) {
  const submodules = f.value('num_transformer_submodules') ?? 1;
  if (submodules !== 1) {
    throw new UnsupportedAdapterFeatureError(
      'num_transformer_submodules',
      submodules,
      'two submodules mean an encoder-decoder model; Whetstone runs decoder-only models (1).',
    );
  }
  return {
    ...common(f),
    numVirtualTokens: f.int('num_virtual_tokens'),
    tokenDim: f.int('token_dim'),
    numTransformerSubmodules: 1,
    numAttentionHeads: f.int('num_attention_heads'),
    numLayers: f.int('num_layers'),
  };
}

function readPromptTuning(raw: Json): PromptTuningAdapterConfig {
  const f = new FieldReader(raw, promptTuningFields);
  const init = f.value('prompt_tuning_init');
  if (init !== 'RANDOM' && init !== 'TEXT' && init !== 'SAMPLE_VOCAB') {
    throw new AdapterConfigError(
      `adapter_config.json: prompt_tuning_init must be RANDOM, TEXT or SAMPLE_VOCAB, got ${JSON.stringify(init)}.`,
    );
  }
  const config: PromptTuningAdapterConfig = {
    peftType: 'PROMPT_TUNING',
    ...promptLearning(f),
    promptTuningInit: init,
    promptTuningInitText: f.str('prompt_tuning_init_text'),
    tokenizerNameOrPath: f.str('tokenizer_name_or_path'),
  };
  if (init === 'TEXT' && (!config.tokenizerNameOrPath || config.promptTuningInitText === null)) {
    throw new AdapterConfigError(
      'adapter_config.json: prompt_tuning_init TEXT needs prompt_tuning_init_text and tokenizer_name_or_path; PEFT refuses it without them.',
    );
  }
  f.finish();
  return config;
}

function readPrefixTuning(raw: Json): PrefixTuningAdapterConfig {
  const f = new FieldReader(raw, prefixTuningFields);
  // With a projection PEFT still saves the prefix itself (the MLP's output), so it reads the same way.
  const prefixProjection = f.bool('prefix_projection');
  const base = promptLearning(f);
  const encoder = f.value('encoder_hidden_size');
  const config: PrefixTuningAdapterConfig = {
    peftType: 'PREFIX_TUNING',
    ...base,
    // PEFT fills a missing encoder_hidden_size with token_dim; without a projection it is unused.
    encoderHiddenSize: encoder === null ? base.tokenDim : f.int('encoder_hidden_size'),
    prefixProjection,
  };
  if (config.tokenDim % config.numAttentionHeads !== 0) {
    throw new AdapterConfigError(
      `adapter_config.json: token_dim ${config.tokenDim} is not a multiple of num_attention_heads ${config.numAttentionHeads}; PEFT could not split the prefix into heads.`,
    );
  }
  f.finish();
  return config;
}

/** Reads adapter_config.json text (or its parsed object) into a typed config. */
export function parseAdapterConfig(json: string | unknown): AdapterConfig {
  let raw: unknown = json;
  if (typeof json === 'string') {
    try {
      raw = JSON.parse(json);
    } catch (error) {
      throw new AdapterConfigError(`adapter_config.json is not valid JSON (${String(error)}).`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AdapterConfigError('adapter_config.json must hold a JSON object.');
  const obj = raw as Json;
  const peftType = obj.peft_type;
  if (peftType === undefined || peftType === null) {
    throw new AdapterConfigError(
      `adapter_config.json has no peft_type, which PEFT requires; it should be one of ${supportedPeftTypes.join(', ')}.`,
    );
  }
  switch (peftType) {
    case 'LORA':
      return readLora(obj);
    case 'IA3':
      return readIa3(obj);
    case 'PROMPT_TUNING':
      return readPromptTuning(obj);
    case 'PREFIX_TUNING':
      return readPrefixTuning(obj);
    default:
      throw new UnsupportedPeftTypeError(typeof peftType === 'string' ? peftType : JSON.stringify(peftType));
  }
}
