/**
 * Prompt-tuning adapters to and from PEFT's folder format (peft/format/*): a trained
 * `PromptTuningAdaptation` becomes adapter_config.json (peft_type "PROMPT_TUNING", num_virtual_tokens,
 * token_dim = C, the init it started from) + adapter_model.safetensors with the one tensor PEFT saves,
 * `prompt_embeddings` [num_virtual_tokens, C], which PeftModel.from_pretrained loads as-is; and a PEFT
 * prompt-tuning folder becomes a `PromptTuningAdaptation` holding those embeddings (to evaluate,
 * generate or continue training).
 */
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor } from '../../gpu/tensor';
import type { DecoderModel } from '../models/decoder-step';
import { type PromptTuningAdapterConfig, promptTuningAdapterConfig } from '../peft/format/adapter-config';
import {
  adapterConfigFile,
  readAdapter,
  type WrittenAdapter,
  writeAdapter,
} from '../peft/format/adapter-files';
import { promptEmbeddingsKey } from '../peft/format/prompt-layout';
import type { AdapterFolder, AdapterTensors } from '../peft/format/tensor-files';
import { PromptTuningAdaptation, type PromptTuningOptions } from '../peft/prompt-tuning';
import { UnsupportedAdapterError } from './lora-adapter';

export async function promptAdapterFiles(
  runtime: Runtime,
  model: DecoderModel,
  prompt: PromptTuningAdaptation,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const init = prompt.options.init ?? 'RANDOM';
  const built = promptTuningAdapterConfig(model.config, {
    numVirtualTokens: prompt.virtualTokens,
    init:
      typeof init === 'string'
        ? 'RANDOM'
        : { text: init.text, tokenizerNameOrPath: init.tokenizerNameOrPath },
    baseModelNameOrPath,
  });
  // The builder knows RANDOM and TEXT; SAMPLE_VOCAB needs nothing more than its name.
  const config: PromptTuningAdapterConfig =
    init === 'SAMPLE_VOCAB' ? { ...built, promptTuningInit: 'SAMPLE_VOCAB' } : built;
  const tensors: AdapterTensors = new Map([
    [
      promptEmbeddingsKey,
      { shape: [...prompt.prompt.shape], data: await downloadTensor(runtime.arena, prompt.prompt) },
    ],
  ]);
  // writeAdapter checks the key and shape against what PEFT expects for this config on this model.
  return writeAdapter({ config, tensors, model: model.config });
}

/** Whether a folder holds a PEFT prompt-tuning adapter; false when its config cannot be read. */
export function isPromptTuningAdapter(files: AdapterFolder): boolean {
  const file = files[adapterConfigFile];
  if (file === undefined) return false;
  try {
    const text = typeof file === 'string' ? file : new TextDecoder().decode(file);
    return (JSON.parse(text) as { peft_type?: unknown }).peft_type === 'PROMPT_TUNING';
  } catch {
    return false;
  }
}

/** A PEFT prompt-tuning folder as a PromptTuningAdaptation on `model`, starting from its embeddings. */
export function promptTuningFromAdapter(
  runtime: Runtime,
  model: DecoderModel,
  files: AdapterFolder,
): PromptTuningAdaptation {
  const { config, tensors } = readAdapter(files, model.config);
  if (config.peftType !== 'PROMPT_TUNING') {
    throw new UnsupportedAdapterError(`This adapter is ${config.peftType}, not PROMPT_TUNING.`);
  }
  if (config.taskType !== 'CAUSAL_LM') {
    throw new UnsupportedAdapterError(
      `This prompt-tuning adapter is for ${config.taskType}; Whetstone runs prompt tuning for CAUSAL_LM.`,
    );
  }
  // readAdapter has checked that the file holds prompt_embeddings [num_virtual_tokens, C].
  const embeddings = tensors.get(promptEmbeddingsKey)?.data as Float32Array;
  const init: PromptTuningOptions['init'] =
    config.promptTuningInit === 'TEXT'
      ? {
          text: config.promptTuningInitText ?? '',
          tokenIds: [],
          tokenizerNameOrPath: config.tokenizerNameOrPath ?? '',
        }
      : config.promptTuningInit;
  return new PromptTuningAdaptation(
    runtime,
    model,
    { numVirtualTokens: config.numVirtualTokens, init },
    embeddings,
  );
}
