/**
 * Exactly the tensors PEFT saves for an adapter config on a given base model, with their shapes: what
 * get_peft_model_state_dict writes, and so what PeftModel.from_pretrained loads with no missing or
 * unexpected keys (see adapter-keys.ts and prompt-layout.ts for the sources).
 *
 * A SEQ_CLS adapter also holds the classification head PEFT trains in full (modules_to_save; utils/
 * other.py, ModulesToSaveWrapper.adapter_state_dict strips "modules_to_save.<adapter>."). Llama, Qwen2
 * and GPT-2 name it `score`, nn.Linear(C, num_labels, bias=False) in transformers, so the key is
 * `base_model.model.score.weight` [num_labels, C] (a prompt-learning PeftModel holds the transformers
 * model directly at `base_model`: `base_model.score.weight`). BERT-style models would have
 * `classifier.weight` and `.bias`; their values come from the caller, who trains the head.
 */
import type { DecoderConfig } from '../../models/config';
import type { AdapterConfig } from './adapter-config';
import { ia3Shape, loraShape, matchesFeedforward, targetedModules } from './adapter-keys';
import { AdapterModelMismatchError } from './errors';
import { prefixDims, prefixTuningShape, promptEmbeddingsKey, promptTuningShape } from './prompt-layout';

export type KeyShapes = Map<string, number[]>;

export function classificationHeadKey(config: AdapterConfig): string {
  const promptLearning = config.peftType === 'PROMPT_TUNING' || config.peftType === 'PREFIX_TUNING';
  return promptLearning ? 'base_model.score.weight' : 'base_model.model.score.weight';
}

export interface ExpectedKeyOptions {
  /** SEQ_CLS: the head's output count. */
  numLabels?: number;
}

export function expectedAdapterKeys(
  model: DecoderConfig,
  config: AdapterConfig,
  options: ExpectedKeyOptions = {},
): KeyShapes {
  const keys: KeyShapes = new Map();
  switch (config.peftType) {
    case 'LORA':
      for (const { module, path } of targetedModules(model, config.targetModules)) {
        keys.set(`base_model.model.${path}.lora_A.weight`, loraShape(module, config.r, 'lora_A'));
        keys.set(`base_model.model.${path}.lora_B.weight`, loraShape(module, config.r, 'lora_B'));
        if (config.useDora)
          keys.set(
            `base_model.model.${path}.lora_magnitude_vector`,
            loraShape(module, config.r, 'lora_magnitude_vector'),
          );
      }
      break;
    case 'IA3':
      for (const { module, path } of targetedModules(model, config.targetModules)) {
        keys.set(
          `base_model.model.${path}.ia3_l`,
          ia3Shape(module, matchesFeedforward(config.feedforwardModules, path)),
        );
      }
      break;
    case 'PROMPT_TUNING':
      if (config.tokenDim !== model.C) {
        throw new AdapterModelMismatchError(
          `Prompt-tuning token_dim ${config.tokenDim} does not match ${model.architecture}'s hidden size ${model.C}.`,
        );
      }
      keys.set(promptEmbeddingsKey, promptTuningShape(config));
      break;
    case 'PREFIX_TUNING': {
      const dims = prefixDims(model);
      if (
        config.numLayers !== model.L ||
        config.tokenDim !== dims.tokenDim ||
        config.numAttentionHeads !== dims.numAttentionHeads
      ) {
        throw new AdapterModelMismatchError(
          `Prefix-tuning num_layers ${config.numLayers}, token_dim ${config.tokenDim}, num_attention_heads ` +
            `${config.numAttentionHeads} do not fit ${model.architecture}, which needs ${model.L}, ` +
            `${dims.tokenDim}, ${dims.numAttentionHeads} (PEFT uses the key/value heads for grouped-query attention).`,
        );
      }
      keys.set(promptEmbeddingsKey, prefixTuningShape(config));
      break;
    }
  }
  if (config.taskType === 'SEQ_CLS') {
    const numLabels = options.numLabels;
    if (!(numLabels !== undefined && Number.isInteger(numLabels) && numLabels > 0)) {
      throw new AdapterModelMismatchError(
        `A SEQ_CLS adapter saves its score head [num_labels, ${model.C}]; pass numLabels (got ${numLabels}).`,
      );
    }
    keys.set(classificationHeadKey(config), [numLabels, model.C]);
  }
  return keys;
}
