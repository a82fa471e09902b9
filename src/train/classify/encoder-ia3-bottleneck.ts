/**
 * IA3 and bottleneck adapters on an encoder classifier, each with the classification head trained beside
 * it (PEFT's SEQ_CLS modules_to_save), and the folders they save:
 * - IA3 as PEFT's IA3Config(task_type="SEQ_CLS"): targets and feed-forward modules default to PEFT's
 *   TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING / _FEEDFORWARD_MODULES_MAPPING for BERT and
 *   RoBERTa: key, value, output.dense, feed-forward output.dense. PEFT has no DistilBERT entry (it asks
 *   for target_modules); Whetstone uses the same pattern there, k_lin, v_lin, lin2 with lin2
 *   feed-forward, and the saved config lists them, so PEFT loads it. As PEFT matches them, "output.dense" takes the attention's output dense too (its path ends
 *   ".attention.output.dense"), and both scale their input. Saved as adapter_config.json (peft_type IA3,
 *   task_type SEQ_CLS) + adapter_model.safetensors: base_model.model.<path>.ia3_l and the head.
 * - Bottleneck adapters (Houlsby) in Whetstone's own format (peft/format/bottleneck-format.ts):
 *   whetstone_adapter_config.json + whetstone_adapter.safetensors, whose adapters.layers.* keys are the
 *   decoder format's, plus the head under base_model.model.<name> as the PEFT folders hold it.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { EncoderModel } from '../models/bert';
import { BottleneckAdaptation, type BottleneckOptions } from '../peft/bottleneck';
import type { Ia3AdapterConfig } from '../peft/format/adapter-config';
import { type WrittenAdapter, writeAdapter } from '../peft/format/adapter-files';
import {
  bottleneckConfigFile,
  bottleneckConfigJson,
  bottleneckWeightsFile,
} from '../peft/format/bottleneck-format';
import { peftFormatVersion } from '../peft/format/peft-fields';
import { type AdapterTensors, tensorsToSafetensors } from '../peft/format/tensor-files';
import { Ia3Adaptation, type Ia3Options } from '../peft/ia3';
import { extraModulesToSave, headTensors, savedHeadParamNames, WithTrainedHead } from './encoder-methods';

/** PEFT's IA3 defaults for the three encoder families. */
export function defaultEncoderIa3Targets(model: EncoderModel): { targets: string[]; feedforward: string[] } {
  return model.config.family === 'distilbert'
    ? { targets: ['k_lin', 'v_lin', 'lin2'], feedforward: ['lin2'] }
    : { targets: ['key', 'value', 'output.dense'], feedforward: ['output.dense'] };
}

export interface EncoderIa3 {
  adaptation: WithTrainedHead;
  ia3: Ia3Adaptation;
}

export function encoderIa3(
  runtime: Runtime,
  model: EncoderModel,
  options: Ia3Options = {},
  /** Starting vectors by site path (an imported adapter); ones otherwise. */
  initial?: Map<string, Float32Array>,
  initialisedHead: readonly string[] = [],
): EncoderIa3 {
  const defaults = defaultEncoderIa3Targets(model);
  const targetModules = options.targetModules ?? defaults.targets;
  // Listed targets keep those of PEFT's feed-forward modules they name, as PEFT's defaults do.
  const feedforwardModules =
    options.feedforwardModules ??
    (targetModules === 'all-linear'
      ? defaults.feedforward
      : defaults.feedforward.filter((f) => targetModules.includes(f)));
  const ia3 = new Ia3Adaptation(runtime, model, { targetModules, feedforwardModules }, initial);
  return {
    ia3,
    adaptation: new WithTrainedHead(runtime, model, ia3, savedHeadParamNames(model, initialisedHead)),
  };
}

export async function encoderIa3AdapterFiles(
  runtime: Runtime,
  model: EncoderModel,
  trained: EncoderIa3,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const targets = trained.ia3.targets;
  const config: Ia3AdapterConfig = {
    peftType: 'IA3',
    taskType: 'SEQ_CLS',
    baseModelNameOrPath,
    revision: null,
    peftVersion: peftFormatVersion,
    modulesToSave: [...extraModulesToSave(trained.adaptation.names), 'classifier', 'score'],
    targetModules: targets === 'all-linear' ? 'all-linear' : [...new Set(targets)].sort(),
    feedforwardModules: [...new Set(trained.ia3.feedforward)].sort(),
    fanInFanOut: false,
  };
  const tensors: AdapterTensors = new Map();
  for (const [path, v] of trained.ia3.weights())
    tensors.set(`base_model.model.${path}.ia3_l`, {
      shape: [...v.l.shape],
      data: await downloadTensor(runtime.arena, v.l),
    });
  for (const [key, tensor] of await headTensors(runtime, model, trained.adaptation.names))
    tensors.set(key, tensor);
  return writeAdapter({ config, tensors });
}

export interface EncoderBottleneck {
  adaptation: WithTrainedHead;
  bottleneck: BottleneckAdaptation;
}

export function encoderBottleneck(
  runtime: Runtime,
  model: EncoderModel,
  options: BottleneckOptions,
  /** Starting tensors by format key (adapters.layers.…); Houlsby's initialisation otherwise. */
  initial?: ReadonlyMap<string, Float32Array>,
  initialisedHead: readonly string[] = [],
): EncoderBottleneck {
  const bottleneck = new BottleneckAdaptation(runtime, model, options, initial);
  return {
    bottleneck,
    adaptation: new WithTrainedHead(runtime, model, bottleneck, savedHeadParamNames(model, initialisedHead)),
  };
}

export async function encoderBottleneckFiles(
  runtime: Runtime,
  model: EncoderModel,
  trained: EncoderBottleneck,
  baseModelNameOrPath: string | null,
): Promise<Record<string, string | Uint8Array>> {
  const tensors: AdapterTensors = new Map();
  for (const [key, tensor] of trained.bottleneck.tensors())
    tensors.set(key, { shape: [...tensor.shape], data: await downloadTensor(runtime.arena, tensor) });
  for (const [key, tensor] of await headTensors(runtime, model, trained.adaptation.names))
    tensors.set(key, tensor);
  return {
    [bottleneckConfigFile]: bottleneckConfigJson({ ...trained.bottleneck.config, baseModelNameOrPath }),
    [bottleneckWeightsFile]: tensorsToSafetensors(bottleneckWeightsFile, tensors),
  };
}
