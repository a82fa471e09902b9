/**
 * Prompt tuning and prefix tuning on an encoder classifier, as PEFT's PeftModelForSequenceClassification
 * runs them (task_type SEQ_CLS): the classification head trains beside the prompt (modules_to_save), and
 * the folder holds adapter_config.json + adapter_model.safetensors with `prompt_embeddings` ([P, C] for
 * prompt tuning; [P, L·2·C] for prefix tuning, the MLP's output when prefix_projection is on, as PEFT
 * saves it) and the head. With prompt learning PEFT's base_model is the transformers model itself (no
 * tuner wrapper), so its modules_to_save keys are base_model.classifier.weight / .bias, not the
 * base_model.model.… of LoRA and IA3.
 * The step side (virtual rows, the prefix key mask, positions) is in classifier-step.ts and bert.ts.
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { EncoderModel } from '../models/bert';
import type { PrefixTuningAdapterConfig, PromptTuningAdapterConfig } from '../peft/format/adapter-config';
import { type WrittenAdapter, writeAdapter } from '../peft/format/adapter-files';
import { peftFormatVersion } from '../peft/format/peft-fields';
import { prefixDims, promptEmbeddingsKey } from '../peft/format/prompt-layout';
import type { AdapterTensors } from '../peft/format/tensor-files';
import { PrefixTuningAdaptation, type PrefixTuningOptions } from '../peft/prefix-tuning';
import { PromptTuningAdaptation, type PromptTuningOptions } from '../peft/prompt-tuning';
import { extraModulesToSave, headTensors, savedHeadParamNames, WithTrainedHead } from './encoder-methods';

/** Where PEFT keeps a prompt-learning model's modules_to_save: base_model.<name>. */
export const promptLearningHeadPrefix = 'base_model.';

export class EncoderPrefixTuningError extends Error {
  override readonly name = 'EncoderPrefixTuningError';
}

export interface EncoderPromptLearning {
  adaptation: WithTrainedHead;
  method: PromptTuningAdaptation | PrefixTuningAdaptation;
}

export function encoderPromptTuning(
  runtime: Runtime,
  model: EncoderModel,
  options: PromptTuningOptions,
  /** Starting embeddings [P·C] (an imported adapter); PEFT's initialisation otherwise. */
  initial?: Float32Array,
  initialisedHead: readonly string[] = [],
): EncoderPromptLearning {
  const method = new PromptTuningAdaptation(runtime, model, options, initial);
  return {
    method,
    adaptation: new WithTrainedHead(runtime, model, method, savedHeadParamNames(model, initialisedHead)),
  };
}

export function encoderPrefixTuning(
  runtime: Runtime,
  model: EncoderModel,
  options: PrefixTuningOptions,
  /** Starting prefix [P·L·2·C] (an imported adapter); PEFT's initialisation otherwise. */
  initial?: Float32Array,
  initialisedHead: readonly string[] = [],
): EncoderPromptLearning {
  // transformers' DistilBERT takes no past_key_values, so PEFT's prefix tuning fails on it too.
  if (model.config.family === 'distilbert')
    throw new EncoderPrefixTuningError(
      'DistilBERT takes no past key/values, so prefix tuning cannot apply to it (PEFT fails the same way); use prompt tuning, LoRA or IA3.',
    );
  const method = new PrefixTuningAdaptation(runtime, model, options, initial);
  return {
    method,
    adaptation: new WithTrainedHead(runtime, model, method, savedHeadParamNames(model, initialisedHead)),
  };
}

export async function encoderPromptLearningFiles(
  runtime: Runtime,
  model: EncoderModel,
  trained: EncoderPromptLearning,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const c = model.config;
  const common = {
    taskType: 'SEQ_CLS' as const,
    baseModelNameOrPath,
    revision: null,
    peftVersion: peftFormatVersion,
    modulesToSave: [...extraModulesToSave(trained.adaptation.names), 'classifier', 'score'],
    numTransformerSubmodules: 1,
    numLayers: c.L,
  };
  const m = trained.method;
  let config: PromptTuningAdapterConfig | PrefixTuningAdapterConfig;
  const tensors: AdapterTensors = new Map();
  if (m instanceof PromptTuningAdaptation) {
    const init = m.options.init ?? 'RANDOM';
    config = {
      peftType: 'PROMPT_TUNING',
      ...common,
      numVirtualTokens: m.virtualTokens,
      tokenDim: c.C,
      numAttentionHeads: c.NH,
      promptTuningInit: typeof init === 'string' ? init : 'TEXT',
      promptTuningInitText: typeof init === 'string' ? null : init.text,
      tokenizerNameOrPath: typeof init === 'string' ? null : init.tokenizerNameOrPath,
    };
    tensors.set(promptEmbeddingsKey, {
      shape: [...m.prompt.shape],
      data: await downloadTensor(runtime.arena, m.prompt),
    });
  } else {
    const dims = prefixDims(c);
    config = {
      peftType: 'PREFIX_TUNING',
      ...common,
      numVirtualTokens: m.prefixTokens,
      tokenDim: dims.tokenDim,
      numAttentionHeads: dims.numAttentionHeads,
      encoderHiddenSize: m.options.encoderHiddenSize ?? dims.tokenDim,
      prefixProjection: m.options.prefixProjection ?? false,
    };
    tensors.set(promptEmbeddingsKey, {
      shape: [m.prefixTokens, c.L * 2 * dims.tokenDim],
      data: await m.prefixValues(),
    });
  }
  for (const [key, tensor] of await headTensors(runtime, model, trained.adaptation.names))
    tensors.set(key.replace(/^base_model\.model\./, promptLearningHeadPrefix), tensor);
  return writeAdapter({ config, tensors });
}
