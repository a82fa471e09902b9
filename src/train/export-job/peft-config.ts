/**
 * The PEFT config of an exported job: the very config Whetstone writes as adapter_config.json for the
 * same method on the same model (peft/format/adapter-config.ts builders: PEFT's default targets,
 * "all-linear" as full module paths, fan_in_fan_out for GPT-2's Conv1D, prompt-learning widths), turned
 * into the keyword arguments of PEFT's config class. Only fields that differ from PEFT's default
 * (peft-fields.ts) are passed, plus the method's defining ones, so the script reads well and keeps
 * working on PEFT releases that add fields. Bookkeeping that PEFT fills in itself (peft_type,
 * peft_version, inference_mode, auto_mapping) is left out. Together: PEFT's defaults, these kwargs and
 * that bookkeeping give back adapterConfigFields(config) exactly (tested).
 * Bottleneck adapters have no PEFT config: PEFT has no such method, so they are refused here.
 */
import type { DecoderConfig } from '../models/config';
import {
  type AdapterConfig,
  adapterConfigFields,
  ia3AdapterConfig,
  loraAdapterConfig,
  prefixTuningAdapterConfig,
  promptTuningAdapterConfig,
} from '../peft/format/adapter-config';
import {
  type FieldTable,
  ia3Fields,
  loraFields,
  prefixTuningFields,
  promptTuningFields,
} from '../peft/format/peft-fields';
import { type PythonJson, pythonJsonDumps } from '../peft/format/python-json';
import { ExportJobError } from './errors';
import type { JobMethod, RunConfig } from './run-config';

export type PeftClassName = 'LoraConfig' | 'IA3Config' | 'PromptTuningConfig' | 'PrefixTuningConfig';

export interface JobPeftConfig {
  className: PeftClassName;
  /** What Whetstone writes as adapter_config.json for this run. */
  config: AdapterConfig;
  /** PEFT's defaults for every field of this class (peft-fields.ts). */
  defaults: FieldTable;
  /** The keyword arguments train.py passes to `className`. */
  kwargs: Record<string, PythonJson>;
}

/** Filled in by PEFT itself, never passed. */
export const peftBookkeepingFields = ['auto_mapping', 'inference_mode', 'peft_type', 'peft_version'];

/** Always passed, even at PEFT's default, because they define the method. */
const definingFields: Record<PeftClassName, readonly string[]> = {
  LoraConfig: ['task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora', 'use_dora'],
  IA3Config: ['task_type', 'target_modules', 'feedforward_modules'],
  PromptTuningConfig: ['task_type', 'num_virtual_tokens', 'prompt_tuning_init'],
  PrefixTuningConfig: ['task_type', 'num_virtual_tokens', 'prefix_projection'],
};

const classOf: Record<AdapterConfig['peftType'], { name: PeftClassName; defaults: FieldTable }> = {
  LORA: { name: 'LoraConfig', defaults: loraFields },
  IA3: { name: 'IA3Config', defaults: ia3Fields },
  PROMPT_TUNING: { name: 'PromptTuningConfig', defaults: promptTuningFields },
  PREFIX_TUNING: { name: 'PrefixTuningConfig', defaults: prefixTuningFields },
};

/** The adapter config Whetstone writes for this method on this model, with the job's model id in it. */
export function adapterConfigForRun(
  method: Exclude<JobMethod, { method: 'full' }>,
  model: DecoderConfig,
  run: Pick<RunConfig, 'model'>,
): AdapterConfig {
  const common = { baseModelNameOrPath: run.model.id, revision: run.model.revision };
  switch (method.method) {
    case 'lora':
      return loraAdapterConfig(model, {
        ...common,
        r: method.r,
        alpha: method.alpha,
        dropout: method.dropout,
        ...(method.targetModules ? { targetModules: method.targetModules } : {}),
        useRslora: method.useRslora,
        useDora: method.useDora,
      });
    case 'ia3':
      return ia3AdapterConfig(model, {
        ...common,
        ...(method.targetModules ? { targetModules: method.targetModules } : {}),
        ...(method.feedforwardModules ? { feedforwardModules: method.feedforwardModules } : {}),
      });
    case 'prompt':
      return promptTuningAdapterConfig(model, { ...common, numVirtualTokens: method.numVirtualTokens });
    case 'prefix':
      return prefixTuningAdapterConfig(model, {
        ...common,
        numVirtualTokens: method.numVirtualTokens,
        prefixProjection: method.prefixProjection,
        ...(method.encoderHiddenSize === undefined ? {} : { encoderHiddenSize: method.encoderHiddenSize }),
      });
    case 'adapter':
      throw new ExportJobError(
        'Bottleneck adapters (method "adapter") cannot be exported as a TRL + PEFT job: PEFT has no ' +
          'bottleneck adapter method, so no PEFT config or layer could train them. Export a LoRA, DoRA, IA3, ' +
          'prompt- or prefix-tuning run instead, or keep training bottleneck adapters in Whetstone.',
      );
  }
}

const same = (a: PythonJson | undefined, b: PythonJson | undefined) =>
  a !== undefined && b !== undefined && pythonJsonDumps(a) === pythonJsonDumps(b);

/** The PEFT config class and its keyword arguments for a run; null for full fine-tuning. */
export function jobPeftConfig(run: RunConfig, model: DecoderConfig): JobPeftConfig | null {
  if (run.method.method === 'full') return null;
  const config = adapterConfigForRun(run.method, model, run);
  const { name, defaults } = classOf[config.peftType];
  const fields = adapterConfigFields(config);
  const kwargs: Record<string, PythonJson> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (peftBookkeepingFields.includes(key)) continue;
    if (definingFields[name].includes(key) || !same(value, defaults[key])) kwargs[key] = value;
  }
  return { className: name, config, defaults, kwargs };
}
