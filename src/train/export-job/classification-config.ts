/**
 * The settings of an exported classification job (an encoder classifier: BERT, DistilBERT, RoBERTa):
 * - the PEFT config, task_type SEQ_CLS, as Whetstone's classifier writes it for the same method
 *   (classify/encoder-lora.ts, encoder-ia3-bottleneck.ts, encoder-prompt-learning.ts): LoRA, rsLoRA and
 *   DoRA on query and value by default (q_lin and v_lin for DistilBERT), IA3 on key, value and
 *   output.dense (k_lin, v_lin, lin2), prompt and prefix tuning; full fine-tuning has none. Passed as
 *   keyword arguments as peft-config.ts passes them (the defining fields and those that differ from
 *   PEFT's defaults). modules_to_save is left to PEFT, which adds "classifier" and "score" for SEQ_CLS;
 *   train.py adds head modules the checkpoint lacked, as Whetstone trains and saves them too.
 * - the TrainingArguments keyword arguments: sftKwargs's mapping (sft-config.ts), less TRL's own fields.
 * - the token length: min(seqLen, the position table), as classifier-run.ts cuts rows.
 * Refused by ExportJobError: bottleneck adapters (PEFT has none) and prefix tuning on DistilBERT
 * (transformers' DistilBERT takes no past key/values, so PEFT fails on it, as Whetstone does).
 */
import type { EncoderConfig } from '../models/bert-config';
import type { AdapterConfig } from '../peft/format/adapter-config';
import { adapterConfigFields } from '../peft/format/adapter-config';
import {
  type FieldTable,
  ia3Fields,
  loraFields,
  peftFormatVersion,
  prefixTuningFields,
  promptTuningFields,
} from '../peft/format/peft-fields';
import { prefixDims } from '../peft/format/prompt-layout';
import { type PythonJson, pythonJsonDumps } from '../peft/format/python-json';
import type { TrainConfig } from '../train-config';
import { ExportJobError } from './errors';
import { type JobPeftConfig, type PeftClassName, peftBookkeepingFields } from './peft-config';
import type { JobMethod, RunConfig } from './run-config';
import { sftKwargs } from './sft-config';

/** PEFT's default LoRA targets for the encoder (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export function encoderLoraTargets(encoder: Pick<EncoderConfig, 'family'>): string[] {
  return encoder.family === 'distilbert' ? ['q_lin', 'v_lin'] : ['query', 'value'];
}

/** PEFT's default IA3 targets and feed-forward modules for the encoder. */
export function encoderIa3Targets(encoder: Pick<EncoderConfig, 'family'>): {
  targets: string[];
  feedforward: string[];
} {
  return encoder.family === 'distilbert'
    ? { targets: ['k_lin', 'v_lin', 'lin2'], feedforward: ['lin2'] }
    : { targets: ['key', 'value', 'output.dense'], feedforward: ['output.dense'] };
}

/** Tokens per row: the run's length, cut to the position table (RoBERTa's starts after padding_idx + 1). */
export function encoderMaxLength(encoder: EncoderConfig, seqLen: number): number {
  const positions = encoder.family === 'roberta' ? encoder.P - encoder.padTokenId - 1 : encoder.P;
  return Math.min(seqLen, positions);
}

const sortedUnique = (list: readonly string[]) => [...new Set(list)].sort();

/** The SEQ_CLS adapter config Whetstone's classifier writes for this method on this encoder. */
export function classifierAdapterConfig(
  method: Exclude<JobMethod, { method: 'full' }>,
  encoder: EncoderConfig,
  run: Pick<RunConfig, 'model'>,
): AdapterConfig {
  const common = {
    taskType: 'SEQ_CLS' as const,
    baseModelNameOrPath: run.model.id,
    revision: run.model.revision,
    peftVersion: peftFormatVersion,
    // PEFT's SEQ_CLS defaults; train.py puts fresh head modules in front at run time.
    modulesToSave: ['classifier', 'score'],
  };
  switch (method.method) {
    case 'lora': {
      const targets = method.targetModules ?? encoderLoraTargets(encoder);
      return {
        peftType: 'LORA',
        ...common,
        r: method.r,
        loraAlpha: method.alpha,
        loraDropout: method.dropout,
        targetModules: targets === 'all-linear' ? 'all-linear' : sortedUnique(targets),
        fanInFanOut: false,
        useRslora: method.useRslora,
        useDora: method.useDora,
      };
    }
    case 'ia3': {
      const defaults = encoderIa3Targets(encoder);
      const targets = method.targetModules ?? defaults.targets;
      // Listed targets keep those of PEFT's feed-forward modules they name, as the classifier does.
      const feedforward =
        method.feedforwardModules ??
        (targets === 'all-linear'
          ? defaults.feedforward
          : defaults.feedforward.filter((f) => targets.includes(f)));
      return {
        peftType: 'IA3',
        ...common,
        targetModules: targets === 'all-linear' ? 'all-linear' : sortedUnique(targets),
        feedforwardModules: sortedUnique(feedforward),
        fanInFanOut: false,
      };
    }
    case 'prompt':
      return {
        peftType: 'PROMPT_TUNING',
        ...common,
        numVirtualTokens: method.numVirtualTokens,
        tokenDim: encoder.C,
        numTransformerSubmodules: 1,
        numAttentionHeads: encoder.NH,
        numLayers: encoder.L,
        promptTuningInit: 'RANDOM',
        promptTuningInitText: null,
        tokenizerNameOrPath: null,
      };
    case 'prefix': {
      if (encoder.family === 'distilbert')
        throw new ExportJobError(
          'Prefix tuning cannot be exported for DistilBERT: transformers’ DistilBERT takes no past ' +
            'key/values, so PEFT’s prefix tuning fails on it. Choose prompt tuning, LoRA, DoRA or IA3.',
        );
      const dims = prefixDims(encoder);
      return {
        peftType: 'PREFIX_TUNING',
        ...common,
        numVirtualTokens: method.numVirtualTokens,
        tokenDim: dims.tokenDim,
        numTransformerSubmodules: 1,
        numAttentionHeads: dims.numAttentionHeads,
        numLayers: encoder.L,
        encoderHiddenSize: method.encoderHiddenSize ?? dims.tokenDim,
        prefixProjection: method.prefixProjection,
      };
    }
    case 'adapter':
      throw new ExportJobError(
        'Bottleneck adapters (method "adapter") cannot be exported as a transformers + PEFT job: PEFT has ' +
          'no bottleneck adapter method. Export a LoRA, DoRA, IA3, prompt- or prefix-tuning or full ' +
          'fine-tuning classifier instead, or keep training bottleneck adapters in Whetstone.',
      );
  }
}

const classOf: Record<AdapterConfig['peftType'], { name: PeftClassName; defaults: FieldTable }> = {
  LORA: { name: 'LoraConfig', defaults: loraFields },
  IA3: { name: 'IA3Config', defaults: ia3Fields },
  PROMPT_TUNING: { name: 'PromptTuningConfig', defaults: promptTuningFields },
  PREFIX_TUNING: { name: 'PrefixTuningConfig', defaults: prefixTuningFields },
};

/** Always passed, even at PEFT's default, because they define the method (as peft-config.ts). */
const definingFields: Record<PeftClassName, readonly string[]> = {
  LoraConfig: ['task_type', 'r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora', 'use_dora'],
  IA3Config: ['task_type', 'target_modules', 'feedforward_modules'],
  PromptTuningConfig: ['task_type', 'num_virtual_tokens', 'prompt_tuning_init'],
  PrefixTuningConfig: ['task_type', 'num_virtual_tokens', 'prefix_projection'],
};

/** Filled in by PEFT for SEQ_CLS (modules_to_save) or by itself, never passed. */
const classifierBookkeeping = [...peftBookkeepingFields, 'modules_to_save'];

/** The PEFT config class and keyword arguments of a classification job; null for full fine-tuning. */
export function classifierPeftConfig(run: RunConfig, encoder: EncoderConfig): JobPeftConfig | null {
  if (run.method.method === 'full') return null;
  const config = classifierAdapterConfig(run.method, encoder, run);
  const { name, defaults } = classOf[config.peftType];
  const kwargs: Record<string, PythonJson> = {};
  for (const [key, value] of Object.entries(adapterConfigFields(config))) {
    if (classifierBookkeeping.includes(key)) continue;
    const atDefault =
      defaults[key] !== undefined && pythonJsonDumps(value) === pythonJsonDumps(defaults[key] as PythonJson);
    if (definingFields[name].includes(key) || !atDefault) kwargs[key] = value;
  }
  return { className: name, config, defaults, kwargs };
}

/** sftKwargs fields that belong to TRL's SFTConfig, not transformers' TrainingArguments. */
const sftOnlyFields = [
  'max_length',
  'truncation_mode',
  'packing',
  'packing_strategy',
  'completion_only_loss',
];

/** The run's training settings as TrainingArguments keyword arguments (sft-config.ts's mapping). */
export function classifierTrainingKwargs(
  training: TrainConfig,
  hasValidation: boolean,
): Record<string, PythonJson> {
  const all = sftKwargs({
    training,
    data: { maskPrompt: false, packing: false },
    shape: 'text',
    hasValidation,
  });
  return Object.fromEntries(Object.entries(all).filter(([key]) => !sftOnlyFields.includes(key)));
}
