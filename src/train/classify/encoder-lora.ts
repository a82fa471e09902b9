/**
 * LoRA (and DoRA, LoraConfig(use_dora=True)) on an encoder classifier, as PEFT's
 * get_peft_model(model, LoraConfig(task_type="SEQ_CLS")) sets it up: adapters on the targeted linear layers (default query and value, PEFT's default for BERT and RoBERTa;
 * q_lin and v_lin for DistilBERT), and the classification head trained in full (modules_to_save). Saved as
 * PEFT saves it: adapter_config.json with task_type SEQ_CLS and modules_to_save ["classifier", "score"],
 * and adapter_model.safetensors with base_model.model.<path>.lora_A.weight / lora_B.weight and the head
 * under base_model.model.classifier.* (PEFT strips "modules_to_save.default." from the wrapper's keys);
 * DoRA adds base_model.model.<path>.lora_magnitude_vector [OUT] per layer and "use_dora": true.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor } from '../../gpu/tensor';
import type { EncoderModel } from '../models/bert';
import { DoraAdaptation, type DoraStart } from '../peft/dora';
import type { LoraAdapterConfig } from '../peft/format/adapter-config';
import { type WrittenAdapter, writeAdapter } from '../peft/format/adapter-files';
import { peftFormatVersion } from '../peft/format/peft-fields';
import type { AdapterTensors } from '../peft/format/tensor-files';
import { LoraAdaptation, type LoraOptions } from '../peft/lora';
import { extraModulesToSave, headTensors, savedHeadParamNames, WithTrainedHead } from './encoder-methods';

/** PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING for the three families. */
export function defaultEncoderLoraTargets(model: EncoderModel): string[] {
  return model.config.family === 'distilbert' ? ['q_lin', 'v_lin'] : ['query', 'value'];
}

export interface EncoderLora {
  adaptation: WithTrainedHead;
  lora: LoraAdaptation | DoraAdaptation;
}

export function encoderLora(
  runtime: Runtime,
  model: EncoderModel,
  options: LoraOptions,
  /** Starting A and B (and DoRA's magnitudes) by site path (an imported adapter); PEFT's fresh init otherwise. */
  initial?: Map<string, DoraStart>,
  /** Head weights the checkpoint lacked (EncoderCheckpoint.initialised): trained and saved with the classifier. */
  initialisedHead: readonly string[] = [],
  /** DoRA from an imported adapter, whose magnitudes `initial` must hold (encoderDora starts a fresh one). */
  useDora = false,
): EncoderLora {
  const targetModules = options.targetModules ?? defaultEncoderLoraTargets(model);
  const settings = { ...options, targetModules };
  const lora = useDora
    ? new DoraAdaptation(runtime, model, settings, initial)
    : new LoraAdaptation(runtime, model, settings, initial);
  return {
    lora,
    adaptation: new WithTrainedHead(runtime, model, lora, savedHeadParamNames(model, initialisedHead)),
  };
}

/** DoRA with the same targets and head; its magnitudes are in place (m = ‖W‖ per row) when it resolves. */
export async function encoderDora(
  runtime: Runtime,
  model: EncoderModel,
  options: LoraOptions,
  /** Starting A, B and magnitude by site path (an imported adapter); PEFT's fresh initialisation otherwise. */
  initial?: Map<string, DoraStart>,
  initialisedHead: readonly string[] = [],
): Promise<EncoderLora> {
  const targetModules = options.targetModules ?? defaultEncoderLoraTargets(model);
  const dora = await DoraAdaptation.create(runtime, model, { ...options, targetModules }, initial);
  return {
    lora: dora,
    adaptation: new WithTrainedHead(runtime, model, dora, savedHeadParamNames(model, initialisedHead)),
  };
}

export async function encoderLoraAdapterFiles(
  runtime: Runtime,
  model: EncoderModel,
  trained: EncoderLora,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const o = trained.lora.options;
  const dora = trained.lora instanceof DoraAdaptation;
  if (trained.lora instanceof DoraAdaptation) await trained.lora.ready();
  const targets = trained.lora.targets;
  const config: LoraAdapterConfig = {
    peftType: 'LORA',
    taskType: 'SEQ_CLS',
    baseModelNameOrPath,
    revision: null,
    peftVersion: peftFormatVersion,
    // PEFT's order: the extra modules, then the SEQ_CLS defaults.
    modulesToSave: [...extraModulesToSave(trained.adaptation.names), 'classifier', 'score'],
    r: o.r,
    loraAlpha: o.alpha,
    loraDropout: o.dropout ?? 0,
    targetModules: targets === 'all-linear' ? 'all-linear' : [...new Set(targets)].sort(),
    fanInFanOut: false,
    useRslora: o.useRslora ?? false,
    useDora: dora,
  };
  const tensors: AdapterTensors = new Map();
  const layers: ReadonlyMap<string, { a: Tensor; b: Tensor; magnitude?: Tensor }> = trained.lora.weights();
  for (const [path, w] of layers) {
    tensors.set(`base_model.model.${path}.lora_A.weight`, {
      shape: [...w.a.shape],
      data: await downloadTensor(runtime.arena, w.a),
    });
    tensors.set(`base_model.model.${path}.lora_B.weight`, {
      shape: [...w.b.shape],
      data: await downloadTensor(runtime.arena, w.b),
    });
    if (w.magnitude)
      tensors.set(`base_model.model.${path}.lora_magnitude_vector`, {
        shape: [...w.magnitude.shape],
        data: await downloadTensor(runtime.arena, w.magnitude),
      });
  }
  for (const [key, tensor] of await headTensors(runtime, model, trained.adaptation.names))
    tensors.set(key, tensor);
  return writeAdapter({ config, tensors });
}
