/**
 * adapter_config.json for LoRA (and DoRA, rsLoRA), IA3, prompt tuning and prefix tuning, written as
 * PEFT's PeftModel.save_pretrained writes it (every field of the config dataclass, sorted, indent 2;
 * see peft-fields.ts for the source files), so PeftConfig.from_pretrained reads back the same config.
 * The typed configs hold only what changes the saved tensors or their meaning; every other field is
 * written at PEFT's default. Builders fill a config from the base model as PEFT fills it at
 * get_peft_model time: default targets, "all-linear", fan_in_fan_out for GPT-2's Conv1D, the
 * classification head in modules_to_save for SEQ_CLS, and the prompt-learning widths.
 */
import type { DecoderConfig } from '../../models/config';
import {
  allLinearTargetModules,
  matchesFeedforward,
  peftDefaultIa3Targets,
  peftDefaultLoraTargets,
  peftModelType,
  targetedModules,
} from './adapter-keys';
import { AdapterConfigError } from './errors';
import {
  type FieldTable,
  ia3Fields,
  loraFields,
  peftFormatVersion,
  prefixTuningFields,
  promptTuningFields,
} from './peft-fields';
import { prefixDims } from './prompt-layout';
import { PythonFloat, type PythonJson, pythonJsonDumps } from './python-json';

export { parseAdapterConfig } from './parse-adapter-config';

export type TaskType = 'CAUSAL_LM' | 'SEQ_CLS';

interface PeftConfigBase {
  taskType: TaskType;
  baseModelNameOrPath: string | null;
  revision: string | null;
  /** The PEFT version the file claims; null when an old file has none. */
  peftVersion: string | null;
  /** SEQ_CLS: the head PEFT trains and saves in full ("classifier", "score"). */
  modulesToSave: readonly string[] | null;
}

/** A list (matched by path suffix) or a regex string (matched against the whole path). */
export type TargetModules = readonly string[] | string;

export interface LoraAdapterConfig extends PeftConfigBase {
  peftType: 'LORA';
  r: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: TargetModules;
  /** True for GPT-2, whose Conv1D stores weights [in, out]; PEFT forces it to match the layer type. */
  fanInFanOut: boolean;
  /** Scale alpha/sqrt(r) instead of alpha/r. */
  useRslora: boolean;
  useDora: boolean;
}

export interface Ia3AdapterConfig extends PeftConfigBase {
  peftType: 'IA3';
  targetModules: TargetModules;
  /** Modules whose input, not output, is scaled; PEFT requires them to be among targetModules. */
  feedforwardModules: TargetModules;
  fanInFanOut: boolean;
}

export type PromptTuningInit = 'RANDOM' | 'TEXT' | 'SAMPLE_VOCAB';

export interface PromptTuningAdapterConfig extends PeftConfigBase {
  peftType: 'PROMPT_TUNING';
  numVirtualTokens: number;
  tokenDim: number;
  numTransformerSubmodules: number;
  numAttentionHeads: number;
  numLayers: number;
  promptTuningInit: PromptTuningInit;
  promptTuningInitText: string | null;
  tokenizerNameOrPath: string | null;
}

export interface PrefixTuningAdapterConfig extends PeftConfigBase {
  peftType: 'PREFIX_TUNING';
  numVirtualTokens: number;
  tokenDim: number;
  numTransformerSubmodules: number;
  numAttentionHeads: number;
  numLayers: number;
  encoderHiddenSize: number;
  /**
   * Trained through PEFT's MLP reparameterisation. The saved prompt_embeddings are still the prefix
   * itself (the MLP's output, as PEFT saves it), which PEFT loads for inference.
   */
  prefixProjection: boolean;
}

export type AdapterConfig =
  | LoraAdapterConfig
  | Ia3AdapterConfig
  | PromptTuningAdapterConfig
  | PrefixTuningAdapterConfig;

export interface CommonOptions {
  taskType?: TaskType;
  baseModelNameOrPath?: string | null;
  revision?: string | null;
  /** Extra modules to save; SEQ_CLS appends "classifier" and "score" as PeftModelForSequenceClassification does. */
  modulesToSave?: readonly string[];
}

function common(o: CommonOptions): PeftConfigBase {
  const taskType = o.taskType ?? 'CAUSAL_LM';
  const extra = o.modulesToSave ?? null;
  return {
    taskType,
    baseModelNameOrPath: o.baseModelNameOrPath ?? null,
    revision: o.revision ?? null,
    peftVersion: peftFormatVersion,
    modulesToSave: taskType === 'SEQ_CLS' ? [...(extra ?? []), 'classifier', 'score'] : extra,
  };
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new AdapterConfigError(`${what} must be a positive integer, got ${value}.`);
  return value;
}

const sortedUnique = (list: readonly string[]) => [...new Set(list)].sort();

export interface LoraOptions extends CommonOptions {
  r: number;
  alpha: number;
  dropout?: number;
  /** Default: PEFT's default for the architecture (q_proj, v_proj; GPT-2 c_attn). */
  targetModules?: readonly string[] | 'all-linear';
  useRslora?: boolean;
  useDora?: boolean;
}

export function loraAdapterConfig(model: DecoderConfig, o: LoraOptions): LoraAdapterConfig {
  const dropout = o.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1))
    throw new AdapterConfigError(`LoRA dropout must be in [0, 1), got ${dropout}.`);
  if (!Number.isFinite(o.alpha)) throw new AdapterConfigError(`LoRA alpha must be finite, got ${o.alpha}.`);
  const targets = resolveTargets(model, o.targetModules, peftDefaultLoraTargets[peftModelType(model)]);
  return {
    peftType: 'LORA',
    ...common(o),
    r: positiveInt(o.r, 'LoRA rank r'),
    loraAlpha: o.alpha,
    loraDropout: dropout,
    targetModules: targets,
    fanInFanOut: model.family === 'gpt2',
    useRslora: o.useRslora ?? false,
    useDora: o.useDora ?? false,
  };
}

function resolveTargets(
  model: DecoderConfig,
  given: readonly string[] | 'all-linear' | undefined,
  fallback: readonly string[],
): string[] {
  const targets = given === 'all-linear' ? allLinearTargetModules(model) : sortedUnique(given ?? fallback);
  targetedModules(model, targets); // refuses targets that select nothing or reach outside the layers
  return targets;
}

export interface Ia3Options extends CommonOptions {
  /** Default: PEFT's default for the architecture (Llama k_proj, v_proj, down_proj; see adapter-keys.ts). */
  targetModules?: readonly string[] | 'all-linear';
  /** Default: PEFT's default (down_proj; GPT-2 mlp.c_proj). */
  feedforwardModules?: readonly string[];
}

export function ia3AdapterConfig(model: DecoderConfig, o: Ia3Options = {}): Ia3AdapterConfig {
  const defaults = peftDefaultIa3Targets[peftModelType(model)];
  const targets = resolveTargets(model, o.targetModules, defaults.targets);
  let feedforward = sortedUnique(o.feedforwardModules ?? defaults.feedforward);
  if (o.targetModules === 'all-linear') {
    // PEFT would write the short names (["down_proj"]) beside full-path targets, and its own
    // IA3Config.__post_init__ then refuses that file on reload (feedforward_modules must be a subset of
    // target_modules). Writing the full paths of the feed-forward targets keeps it loadable.
    feedforward = targets.filter((path) => matchesFeedforward(feedforward, path));
  }
  const missing = feedforward.filter((f) => !targets.includes(f));
  if (missing.length) {
    throw new AdapterConfigError(
      `IA3 feedforward_modules ${JSON.stringify(missing)} are not in target_modules ${JSON.stringify(targets)}; ` +
        'PEFT requires feedforward_modules to be a subset of target_modules.',
    );
  }
  return {
    peftType: 'IA3',
    ...common(o),
    targetModules: targets,
    feedforwardModules: feedforward,
    fanInFanOut: model.family === 'gpt2',
  };
}

export interface PromptTuningOptions extends CommonOptions {
  numVirtualTokens: number;
  /** RANDOM (default), or TEXT with the text and tokenizer PEFT would initialise from. */
  init?: 'RANDOM' | { text: string; tokenizerNameOrPath: string };
}

export function promptTuningAdapterConfig(
  model: DecoderConfig,
  o: PromptTuningOptions,
): PromptTuningAdapterConfig {
  const init = o.init ?? 'RANDOM';
  if (init !== 'RANDOM' && !init.tokenizerNameOrPath)
    throw new AdapterConfigError('Prompt tuning from TEXT needs tokenizer_name_or_path, as PEFT requires.');
  return {
    peftType: 'PROMPT_TUNING',
    ...common(o),
    numVirtualTokens: positiveInt(o.numVirtualTokens, 'num_virtual_tokens'),
    tokenDim: model.C,
    numTransformerSubmodules: 1,
    numAttentionHeads: model.NH,
    numLayers: model.L,
    promptTuningInit: init === 'RANDOM' ? 'RANDOM' : 'TEXT',
    promptTuningInitText: init === 'RANDOM' ? null : init.text,
    tokenizerNameOrPath: init === 'RANDOM' ? null : init.tokenizerNameOrPath,
  };
}

export interface PrefixTuningOptions extends CommonOptions {
  numVirtualTokens: number;
  prefixProjection?: boolean;
  /** The MLP's hidden width; token_dim when absent, as PEFT fills it. */
  encoderHiddenSize?: number;
}

export function prefixTuningAdapterConfig(
  model: DecoderConfig,
  o: PrefixTuningOptions,
): PrefixTuningAdapterConfig {
  const { tokenDim, numAttentionHeads } = prefixDims(model);
  return {
    peftType: 'PREFIX_TUNING',
    ...common(o),
    numVirtualTokens: positiveInt(o.numVirtualTokens, 'num_virtual_tokens'),
    tokenDim,
    numTransformerSubmodules: 1,
    numAttentionHeads,
    numLayers: model.L,
    encoderHiddenSize:
      o.encoderHiddenSize === undefined ? tokenDim : positiveInt(o.encoderHiddenSize, 'encoder_hidden_size'),
    prefixProjection: o.prefixProjection ?? false,
  };
}

const targetJson = (t: TargetModules): PythonJson => (typeof t === 'string' ? t : [...t]);

/** The dict PEFT's to_dict gives, as save_pretrained leaves it (inference_mode true). */
export function adapterConfigFields(c: AdapterConfig): Record<string, PythonJson> {
  const base = (table: FieldTable): Record<string, PythonJson> => ({
    ...table,
    base_model_name_or_path: c.baseModelNameOrPath,
    inference_mode: true,
    modules_to_save: c.modulesToSave === null ? null : [...c.modulesToSave],
    peft_type: c.peftType,
    peft_version: c.peftVersion,
    revision: c.revision,
    task_type: c.taskType,
  });
  switch (c.peftType) {
    case 'LORA':
      return {
        ...base(loraFields),
        fan_in_fan_out: c.fanInFanOut,
        // lora_alpha is typed int in PEFT; a non-integer one (e.g. rsLoRA conversions) is a float.
        lora_alpha: Number.isInteger(c.loraAlpha) ? c.loraAlpha : new PythonFloat(c.loraAlpha),
        lora_dropout: new PythonFloat(c.loraDropout),
        r: c.r,
        target_modules: targetJson(c.targetModules),
        use_dora: c.useDora,
        use_rslora: c.useRslora,
      };
    case 'IA3':
      return {
        ...base(ia3Fields),
        fan_in_fan_out: c.fanInFanOut,
        feedforward_modules: targetJson(c.feedforwardModules),
        target_modules: targetJson(c.targetModules),
      };
    case 'PROMPT_TUNING':
      return {
        ...base(promptTuningFields),
        num_attention_heads: c.numAttentionHeads,
        num_layers: c.numLayers,
        num_transformer_submodules: c.numTransformerSubmodules,
        num_virtual_tokens: c.numVirtualTokens,
        prompt_tuning_init: c.promptTuningInit,
        prompt_tuning_init_text: c.promptTuningInitText,
        token_dim: c.tokenDim,
        tokenizer_name_or_path: c.tokenizerNameOrPath,
      };
    case 'PREFIX_TUNING':
      return {
        ...base(prefixTuningFields),
        encoder_hidden_size: c.encoderHiddenSize,
        num_attention_heads: c.numAttentionHeads,
        num_layers: c.numLayers,
        num_transformer_submodules: c.numTransformerSubmodules,
        num_virtual_tokens: c.numVirtualTokens,
        prefix_projection: c.prefixProjection,
        token_dim: c.tokenDim,
      };
  }
}

/** The text of adapter_config.json, byte for byte as PEFT writes it (no trailing newline). */
export function adapterConfigJson(c: AdapterConfig): string {
  return pythonJsonDumps(adapterConfigFields(c));
}
