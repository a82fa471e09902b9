/**
 * An adapter folder that `train --task classification` wrote (or PEFT, for LoRA, DoRA and IA3) back on an
 * encoder classifier: PEFT SEQ_CLS folders (adapter_config.json + adapter_model.safetensors) with the
 * method's tensors under base_model.model.<path>.<tensor> and the head under base_model.model.<name>, or
 * Whetstone's bottleneck folder (whetstone_adapter_config.json + whetstone_adapter.safetensors). The head
 * replaces the model's head; the method's tensors become its starting weights. Prompt and prefix tuning
 * folders hold prompt_embeddings and the head under base_model.<name> (see encoder-prompt-learning.ts).
 */
import type { Runtime } from '../../gpu/runtime';
import { type Tensor, writeTensor } from '../../gpu/tensor';
import type { EncoderModel } from '../models/bert';
import type { DoraStart } from '../peft/dora';
import { parseAdapterConfig } from '../peft/format/adapter-config';
import {
  bottleneckConfigFile,
  bottleneckWeightsFile,
  parseBottleneckConfig,
} from '../peft/format/bottleneck-format';
import { promptEmbeddingsKey } from '../peft/format/prompt-layout';
import { safetensorsToTensors } from '../peft/format/tensor-files';
import { encoderBottleneck, encoderIa3 } from './encoder-ia3-bottleneck';
import { encoderLora } from './encoder-lora';
import type { WithTrainedHead } from './encoder-methods';
import {
  encoderPrefixTuning,
  encoderPromptTuning,
  promptLearningHeadPrefix,
} from './encoder-prompt-learning';

export class EncoderAdapterError extends Error {
  override readonly name = 'EncoderAdapterError';
}

type Folder = Record<string, Uint8Array | string>;

const prefix = 'base_model.model.';

function text(file: Uint8Array | string): string {
  return typeof file === 'string' ? file : new TextDecoder().decode(file);
}

/** The head's output weight in any encoder family: BERT's and DistilBERT's linear, RoBERTa's out_proj. */
const headOutputWeights = ['classifier.weight', 'classifier.out_proj.weight'];

/**
 * How many classes the adapter's saved head predicts (its output weight's rows), or undefined when the
 * folder keeps no head. The base model must be opened with that many before the adapter goes on: a head
 * trained on three labels does not fit a checkpoint's two-class head.
 */
export function adapterHeadClasses(folder: Folder): number | undefined {
  const file = [bottleneckWeightsFile, 'adapter_model.safetensors'].find((f) => folder[f] !== undefined);
  const bytes = file === undefined ? undefined : folder[file];
  if (file === undefined || bytes === undefined || typeof bytes === 'string') return undefined;
  for (const [key, tensor] of safetensorsToTensors(file, bytes)) {
    const name = key.startsWith(prefix)
      ? key.slice(prefix.length)
      : key.startsWith(promptLearningHeadPrefix)
        ? key.slice(promptLearningHeadPrefix.length)
        : key;
    if (headOutputWeights.includes(name) && tensor.shape.length === 2) return tensor.shape[0];
  }
  return undefined;
}

/** Splits a weights file into the head's tensors (by model parameter name) and the method's (by key). */
function splitHead(model: EncoderModel, file: string, bytes: Uint8Array) {
  const head = new Map<string, Float32Array>();
  const method = new Map<string, Float32Array>();
  for (const [key, tensor] of safetensorsToTensors(file, bytes)) {
    // LoRA, IA3 and bottleneck keep the head under base_model.model.; prompt learning under base_model.
    const name = key.startsWith(prefix)
      ? key.slice(prefix.length)
      : key.startsWith(promptLearningHeadPrefix)
        ? key.slice(promptLearningHeadPrefix.length)
        : undefined;
    if (name !== undefined && model.headParamNames().includes(name)) {
      const param = model.params.get(name);
      if (param?.size !== tensor.data.length)
        throw new EncoderAdapterError(
          `${file}: ${key} has ${tensor.data.length} values; the model's ${name} has ${param?.size}.`,
        );
      head.set(name, tensor.data);
    } else method.set(key, tensor.data);
  }
  return { head, method };
}

/** PEFT's modules_to_save: the SEQ_CLS defaults, or head modules of this model (a fresh pooler, say). */
function checkedConfig(model: EncoderModel, raw: Record<string, unknown>) {
  const modules = Array.isArray(raw.modules_to_save) ? (raw.modules_to_save as unknown[]).map(String) : [];
  const headModules = new Set(model.headParamNames().map((name) => name.replace(/\.(weight|bias)$/, '')));
  const unknown = modules.filter((m) => m !== 'classifier' && m !== 'score' && !headModules.has(m));
  if (unknown.length > 0)
    throw new EncoderAdapterError(
      `adapter_config.json saves modules ${unknown.join(', ')} in full; this ${model.config.architecture} has no such head module.`,
    );
  // The shared parser accepts only PEFT's SEQ_CLS defaults in modules_to_save; the rest are checked above.
  return parseAdapterConfig({
    ...raw,
    modules_to_save:
      raw.modules_to_save == null ? null : modules.filter((m) => m === 'classifier' || m === 'score'),
  });
}

/** The method's tensors by site path: `<path>.<suffix>` keys with base_model.model. in front. */
function bySitePath(model: EncoderModel, method: Map<string, Float32Array>, suffixes: RegExp) {
  const found = new Map<string, Map<string, Float32Array>>();
  for (const [key, data] of method) {
    const match = key.startsWith(prefix) ? suffixes.exec(key.slice(prefix.length)) : null;
    if (!match)
      throw new EncoderAdapterError(
        `adapter_model.safetensors: ${key} matches no module of ${model.config.architecture}.`,
      );
    const entry = found.get(match[1] as string) ?? new Map<string, Float32Array>();
    entry.set(match[2] as string, data);
    found.set(match[1] as string, entry);
  }
  return found;
}

/** A list of module names, or "all-linear"; PEFT's regex form is not read for encoders. */
function listedTargets(
  targets: readonly string[] | string,
  field = 'target_modules',
): string[] | 'all-linear' {
  if (typeof targets !== 'string') return [...targets];
  if (field === 'target_modules' && targets.toLowerCase() === 'all-linear') return 'all-linear';
  throw new EncoderAdapterError(
    `adapter_config.json: ${field} is the pattern ${JSON.stringify(targets)}; encoder classifiers read a list of module names. Re-save the adapter with the modules listed.`,
  );
}

/** The adaptation an adapter folder holds on `model`, with the folder's head written into the model. */
export function encoderAdaptationFromFolder(
  runtime: Runtime,
  model: EncoderModel,
  files: Folder,
): WithTrainedHead {
  const loaded = readFolder(runtime, model, files);
  for (const [name, data] of loaded.head) writeTensor(runtime.device, model.params.get(name) as Tensor, data);
  return loaded.adaptation;
}

function readFolder(runtime: Runtime, model: EncoderModel, files: Folder) {
  const bottleneckConfig = files[bottleneckConfigFile];
  if (bottleneckConfig !== undefined) {
    const weights = files[bottleneckWeightsFile];
    if (!(weights instanceof Uint8Array))
      throw new EncoderAdapterError(`A bottleneck adapter folder needs ${bottleneckWeightsFile}.`);
    const config = parseBottleneckConfig(text(bottleneckConfig));
    const c = model.config;
    if (config.hiddenSize !== c.C || config.numLayers !== c.L || config.architecture !== c.architecture)
      throw new EncoderAdapterError(
        `The bottleneck adapter is for ${config.architecture} with hidden size ${config.hiddenSize} and ${config.numLayers} layers; the model is ${c.architecture} with ${c.C} and ${c.L}.`,
      );
    const { head, method } = splitHead(model, bottleneckWeightsFile, weights);
    const trained = encoderBottleneck(
      runtime,
      model,
      {
        reductionFactor: config.reductionFactor,
        nonLinearity: config.nonLinearity,
        positions: config.positions,
      },
      method,
    );
    return { head, adaptation: trained.adaptation };
  }
  const configBytes = files['adapter_config.json'];
  const weightBytes = files['adapter_model.safetensors'];
  if (configBytes === undefined || !(weightBytes instanceof Uint8Array))
    throw new EncoderAdapterError(
      'An adapter folder needs adapter_config.json and adapter_model.safetensors (or, for bottleneck adapters, whetstone_adapter_config.json).',
    );
  const config = checkedConfig(model, JSON.parse(text(configBytes)) as Record<string, unknown>);
  const { head, method } = splitHead(model, 'adapter_model.safetensors', weightBytes);
  if (config.peftType === 'IA3') {
    const vectors = bySitePath(model, method, /^(.*)\.(ia3_l)$/);
    const initial = new Map([...vectors].map(([path, t]) => [path, t.get('ia3_l') as Float32Array]));
    const trained = encoderIa3(
      runtime,
      model,
      {
        targetModules: listedTargets(config.targetModules),
        feedforwardModules: listedTargets(config.feedforwardModules, 'feedforward_modules') as string[],
      },
      initial,
    );
    const missing = [...trained.ia3.weights().keys()].filter((path) => !initial.has(path));
    if (missing.length > 0)
      throw new EncoderAdapterError(`The adapter has no ia3_l for ${missing.join(', ')}.`);
    return { head, adaptation: trained.adaptation };
  }
  if (config.peftType === 'PROMPT_TUNING' || config.peftType === 'PREFIX_TUNING') {
    const embeddings = method.get(promptEmbeddingsKey);
    const extra = [...method.keys()].filter((key) => key !== promptEmbeddingsKey);
    if (!embeddings || extra.length > 0)
      throw new EncoderAdapterError(
        `adapter_model.safetensors: a ${config.peftType} adapter holds ${promptEmbeddingsKey} and the head${extra.length ? `, not ${extra.join(', ')}` : ''}.`,
      );
    const options = { numVirtualTokens: config.numVirtualTokens };
    const trained =
      config.peftType === 'PROMPT_TUNING'
        ? encoderPromptTuning(runtime, model, options, embeddings)
        : encoderPrefixTuning(runtime, model, options, embeddings);
    return { head, adaptation: trained.adaptation };
  }
  // What remains is LoRA (the parser knows LORA, IA3, PROMPT_TUNING and PREFIX_TUNING).
  const layers = bySitePath(model, method, /^(.*)\.(lora_A\.weight|lora_B\.weight|lora_magnitude_vector)$/);
  const initial = new Map<string, DoraStart>();
  for (const [path, t] of layers) {
    const a = t.get('lora_A.weight');
    const b = t.get('lora_B.weight');
    const magnitude = t.get('lora_magnitude_vector');
    if (!a || !b) throw new EncoderAdapterError(`The adapter lacks lora_A or lora_B for ${path}.`);
    if (config.useDora && !magnitude)
      throw new EncoderAdapterError(`The DoRA adapter has no lora_magnitude_vector for ${path}.`);
    initial.set(path, { a, b, ...(magnitude ? { magnitude } : {}) });
  }
  const options = {
    r: config.r,
    alpha: config.loraAlpha,
    dropout: config.loraDropout,
    useRslora: config.useRslora,
    targetModules: listedTargets(config.targetModules),
  };
  // Every magnitude is given, so the DoRA adaptation needs no GPU initialisation and starts synchronously.
  const trained = encoderLora(runtime, model, options, initial, [], config.useDora);
  const missing = [...trained.lora.weights().keys()].filter((path) => !initial.has(path));
  if (missing.length > 0)
    throw new EncoderAdapterError(`The adapter has no weights for ${missing.join(', ')}.`);
  return { head, adaptation: trained.adaptation };
}
