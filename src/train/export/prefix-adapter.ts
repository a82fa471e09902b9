/**
 * Prefix-tuning adapters to and from PEFT's folder format (peft/format/*): a trained
 * `PrefixTuningAdaptation` becomes adapter_config.json (peft_type "PREFIX_TUNING", num_virtual_tokens,
 * token_dim and num_attention_heads as PEFT sizes them, KV heads under GQA; num_layers,
 * encoder_hidden_size, prefix_projection) + adapter_model.safetensors with the one tensor PEFT saves,
 * `prompt_embeddings` [num_virtual_tokens, num_layers·2·token_dim]. With a projection that tensor is
 * the MLP's output (save_and_load.py, get_peft_model_state_dict → get_prompt_embedding_to_save), which
 * PeftModel.from_pretrained loads into its inference-mode embedding as-is.
 * A PEFT prefix-tuning folder becomes a `PrefixTuningAdaptation` holding that prefix, without an MLP
 * (there is none to recover from its output), to evaluate, generate or continue training.
 */
import type { Runtime } from '../../gpu/runtime';
import type { DecoderModel } from '../models/decoder-step';
import { prefixTuningAdapterConfig } from '../peft/format/adapter-config';
import {
  adapterConfigFile,
  readAdapter,
  type WrittenAdapter,
  writeAdapter,
} from '../peft/format/adapter-files';
import { prefixTuningShape, promptEmbeddingsKey } from '../peft/format/prompt-layout';
import type { AdapterFolder, AdapterTensors } from '../peft/format/tensor-files';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { UnsupportedAdapterError } from './lora-adapter';

export async function prefixAdapterFiles(
  model: DecoderModel,
  prefix: PrefixTuningAdaptation,
  baseModelNameOrPath: string | null,
): Promise<WrittenAdapter> {
  const config = prefixTuningAdapterConfig(model.config, {
    numVirtualTokens: prefix.prefixTokens,
    prefixProjection: Boolean(prefix.mlp),
    ...(prefix.options.encoderHiddenSize === undefined
      ? {}
      : { encoderHiddenSize: prefix.options.encoderHiddenSize }),
    baseModelNameOrPath,
  });
  const tensors: AdapterTensors = new Map([
    [promptEmbeddingsKey, { shape: prefixTuningShape(config), data: await prefix.prefixValues() }],
  ]);
  // writeAdapter checks the key and shape against what PEFT expects for this config on this model.
  return writeAdapter({ config, tensors, model: model.config });
}

/** Whether a folder holds a PEFT prefix-tuning adapter; false when its config cannot be read. */
export function isPrefixTuningAdapter(files: AdapterFolder): boolean {
  const file = files[adapterConfigFile];
  if (file === undefined) return false;
  try {
    const text = typeof file === 'string' ? file : new TextDecoder().decode(file);
    return (JSON.parse(text) as { peft_type?: unknown }).peft_type === 'PREFIX_TUNING';
  } catch {
    return false;
  }
}

/** A PEFT prefix-tuning folder as a PrefixTuningAdaptation on `model`, starting from its prefix. */
export function prefixTuningFromAdapter(
  runtime: Runtime,
  model: DecoderModel,
  files: AdapterFolder,
): PrefixTuningAdaptation {
  const { config, tensors } = readAdapter(files, model.config);
  if (config.peftType !== 'PREFIX_TUNING') {
    throw new UnsupportedAdapterError(`This adapter is ${config.peftType}, not PREFIX_TUNING.`);
  }
  if (config.taskType !== 'CAUSAL_LM') {
    throw new UnsupportedAdapterError(
      `This prefix-tuning adapter is for ${config.taskType}; Whetstone runs prefix tuning for CAUSAL_LM.`,
    );
  }
  // readAdapter has checked num_layers, token_dim and heads against the model, and the tensor's shape.
  const prefix = tensors.get(promptEmbeddingsKey)?.data as Float32Array;
  return new PrefixTuningAdaptation(runtime, model, { numVirtualTokens: config.numVirtualTokens }, prefix);
}
