/**
 * Where PEFT puts each adapter tensor: the linear modules of Llama/Mistral/Qwen2/Qwen3/SmolLM3 and GPT-2
 * under their Hugging Face paths, PEFT's default targets, its target_modules matching, and the exact
 * safetensors key and shape of every LoRA, DoRA and IA3 tensor. Facts from PEFT v0.20.0:
 * - Keys (peft/utils/save_and_load.py, get_peft_model_state_dict): the PeftModel state-dict name with
 *   the adapter name removed. A LoRA/IA3 PeftModel holds LoraModel/IA3Model at `base_model`, which
 *   holds the transformers model at `.model`, so every key starts `base_model.model.` followed by the
 *   module path inside LlamaForCausalLM (`model.layers.3.self_attn.q_proj`) or GPT2LMHeadModel
 *   (`transformer.h.3.attn.c_attn`).
 * - LoRA (tuners/lora/layer.py, update_layer): lora_A = nn.Linear(in, r) -> `lora_A.weight` [r, in];
 *   lora_B = nn.Linear(r, out) -> `lora_B.weight` [out, r]. GPT-2's Conv1D stores its weight [in, out]
 *   and PEFT reads in/out from that (tuners_utils.py, _get_in_out_features), so its LoRA tensors have
 *   the same [r, in] / [out, r] shapes; fan_in_fan_out only transposes B@A when merging.
 * - DoRA (tuners/lora/dora.py): the magnitude is the L2 norm of each output row of W + scale*B@A, [out].
 *   In memory it is `lora_magnitude_vector.<adapter>.weight`; the saver strips ".weight" so the file key
 *   is `...q_proj.lora_magnitude_vector` with no suffix (and the loader adds it back).
 * - IA3 (tuners/ia3/layer.py): `ia3_l` is a bare Parameter, so the key has no ".weight": [out, 1] scales
 *   a layer's output (bias included), [1, in] scales a feed-forward layer's input. Conv1D alike.
 * - bias "none" saves no base biases; lora_bias false adds no lora_B bias.
 * Modules are named as the model files name their sites (models/llama.ts, gpt2.ts): the path inside a
 * layer, e.g. `self_attn.q_proj`, `attn.c_proj`, `mlp.c_proj`. GPT-2 has two `c_proj`.
 */
import { type DecoderConfig, type DecoderModelType, decoderModelTypes } from '../../models/config';
import type { Architecture } from '../../models/errors';
import { AdapterModelMismatchError, UnsupportedAdapterFeatureError } from './errors';

export type PeftModelType = DecoderModelType;

/** transformers' model_type, which PEFT keys its default-target tables by. */
export function peftModelType(model: { readonly architecture: string }): PeftModelType {
  return decoderModelTypes[model.architecture as Architecture] ?? 'llama';
}

export interface LinearModule {
  /** The module's own name, e.g. "q_proj", "c_proj". */
  name: string;
  /** Its path inside one layer, e.g. "self_attn.q_proj", "mlp.c_proj". */
  path: string;
  inFeatures: number;
  outFeatures: number;
}

/** The linear (GPT-2: Conv1D) modules of one decoder layer, in model order. */
export function layerLinearModules(model: DecoderConfig): LinearModule[] {
  const { C, F, NH, KV, D } = model;
  const m = (path: string, inFeatures: number, outFeatures: number): LinearModule => ({
    name: path.slice(path.lastIndexOf('.') + 1),
    path,
    inFeatures,
    outFeatures,
  });
  if (model.family === 'gpt2') {
    return [m('attn.c_attn', C, 3 * C), m('attn.c_proj', C, C), m('mlp.c_fc', C, F), m('mlp.c_proj', F, C)];
  }
  return [
    m('self_attn.q_proj', C, NH * D),
    m('self_attn.k_proj', C, KV * D),
    m('self_attn.v_proj', C, KV * D),
    m('self_attn.o_proj', NH * D, C),
    m('mlp.gate_proj', C, F),
    m('mlp.up_proj', C, F),
    m('mlp.down_proj', F, C),
  ];
}

/** The module's path in the transformers model, as PEFT matches and saves it. */
export function hfModulePath(model: DecoderConfig, layer: number, path: string): string {
  if (!(Number.isInteger(layer) && layer >= 0 && layer < model.L)) {
    throw new RangeError(`Layer ${layer} is out of range: the model has layers 0..${model.L - 1}.`);
  }
  return model.family === 'gpt2' ? `transformer.h.${layer}.${path}` : `model.layers.${layer}.${path}`;
}

/** Finds a layer module by its in-layer path, or by its bare name where that is unambiguous. */
export function resolveLayerModule(model: DecoderConfig, module: string): LinearModule {
  const modules = layerLinearModules(model);
  const byPath = modules.find((m) => m.path === module);
  if (byPath) return byPath;
  const byName = modules.filter((m) => m.name === module);
  if (byName.length === 1) return byName[0] as LinearModule;
  if (byName.length > 1) {
    throw new RangeError(
      `"${module}" is ambiguous in ${model.architecture}: say ${byName.map((m) => `"${m.path}"`).join(' or ')}.`,
    );
  }
  throw new RangeError(
    `${model.architecture} has no linear module "${module}"; it has ${modules.map((m) => m.path).join(', ')}.`,
  );
}

export type LoraTensor = 'lora_A' | 'lora_B' | 'lora_magnitude_vector';

const peftPrefix = 'base_model.model.';

/** e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight */
export function loraKey(model: DecoderConfig, layer: number, module: string, tensor: LoraTensor): string {
  const path = hfModulePath(model, layer, resolveLayerModule(model, module).path);
  const suffix = tensor === 'lora_magnitude_vector' ? tensor : `${tensor}.weight`;
  return `${peftPrefix}${path}.${suffix}`;
}

export function loraShape(module: LinearModule, r: number, tensor: LoraTensor): number[] {
  if (tensor === 'lora_A') return [r, module.inFeatures];
  if (tensor === 'lora_B') return [module.outFeatures, r];
  return [module.outFeatures];
}

/** e.g. base_model.model.model.layers.0.mlp.down_proj.ia3_l */
export function ia3Key(model: DecoderConfig, layer: number, module: string): string {
  return `${peftPrefix}${hfModulePath(model, layer, resolveLayerModule(model, module).path)}.ia3_l`;
}

export function ia3Shape(module: LinearModule, feedforward: boolean): number[] {
  return feedforward ? [1, module.inFeatures] : [module.outFeatures, 1];
}

/**
 * PEFT's defaults when target_modules is not given (utils/constants.py,
 * TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). bert is listed for reference only.
 */
export const peftDefaultLoraTargets: Readonly<Record<PeftModelType | 'bert', readonly string[]>> = {
  llama: ['q_proj', 'v_proj'],
  mistral: ['q_proj', 'v_proj'],
  // PEFT has no SmolLM3 entry (it asks for target_modules); Llama's, which the saved config names.
  smollm3: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  qwen3: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
  gemma3_text: ['q_proj', 'v_proj'],
  gpt2: ['c_attn'],
  bert: ['query', 'value'],
};

/**
 * TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING and ..._IA3_FEEDFORWARD_MODULES_MAPPING. Note Qwen2,
 * Qwen3 and Gemma take q_proj where Llama takes k_proj.
 */
export const peftDefaultIa3Targets: Readonly<
  Record<PeftModelType | 'bert', { targets: readonly string[]; feedforward: readonly string[] }>
> = {
  llama: { targets: ['k_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  mistral: { targets: ['k_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  smollm3: { targets: ['k_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  qwen2: { targets: ['q_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  qwen3: { targets: ['q_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  gemma2: { targets: ['q_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  gemma3_text: { targets: ['q_proj', 'v_proj', 'down_proj'], feedforward: ['down_proj'] },
  gpt2: { targets: ['c_attn', 'mlp.c_proj'], feedforward: ['mlp.c_proj'] },
  bert: { targets: ['key', 'value', 'output.dense'], feedforward: ['output.dense'] },
};

/** The bare names of a layer's linear modules, once each (GPT-2: c_attn, c_proj, c_fc). */
export function linearModuleNames(model: DecoderConfig): string[] {
  return [...new Set(layerLinearModules(model).map((m) => m.name))];
}

/**
 * What "all-linear" becomes in the saved config: since PEFT 0.14 (tuners_utils.py,
 * _maybe_include_all_linear_layers) the full path of every nn.Linear/Conv1D in the transformers model,
 * less the output layer (lm_head; for SEQ_CLS without output embeddings, the score head). Sorted here;
 * PEFT writes a Python set in hash order, which it reads back as a set.
 */
export function allLinearTargetModules(model: DecoderConfig): string[] {
  const paths: string[] = [];
  for (let layer = 0; layer < model.L; layer++) {
    for (const m of layerLinearModules(model)) paths.push(hfModulePath(model, layer, m.path));
  }
  return paths.sort();
}

/** Python's re.fullmatch(pattern, ...) as a JavaScript RegExp. */
function fullMatch(pattern: string, field: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new UnsupportedAdapterFeatureError(
      field,
      pattern,
      `JavaScript cannot read this Python regex (${String(error)}); list the modules instead.`,
    );
  }
}

/**
 * PEFT's target test (tuners_utils.py, check_target_module_exists): a string is a regex that must match
 * the whole path (re.fullmatch; read here as a JavaScript RegExp, which agrees on the usual
 * patterns); a list matches a path equal to an entry or ending in "." + entry.
 */
export function matchesTarget(targets: readonly string[] | string, path: string): boolean {
  if (typeof targets === 'string') {
    if (targets.toLowerCase() === 'all-linear') return true;
    return fullMatch(targets, 'target_modules').test(path);
  }
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

/**
 * IA3's feed-forward test (tuners/ia3/model.py, _check_target_module_feedforward): a plain string suffix
 * test with no "." boundary, or re.fullmatch for a string.
 */
export function matchesFeedforward(feedforward: readonly string[] | string, path: string): boolean {
  if (typeof feedforward === 'string') return fullMatch(feedforward, 'feedforward_modules').test(path);
  return feedforward.some((t) => path.endsWith(t));
}

/** Modules outside the layers that a target could name; Whetstone adapts only the layers' linears. */
function outsideModules(model: DecoderConfig): string[] {
  return model.family === 'gpt2'
    ? ['transformer.wte', 'transformer.wpe', 'lm_head', 'score']
    : ['model.embed_tokens', 'lm_head', 'score'];
}

export interface TargetedModule {
  layer: number;
  module: LinearModule;
  /** The module's path in the transformers model. */
  path: string;
}

/**
 * The layer modules a target_modules value selects, as PEFT would select them. Naming the embeddings,
 * the LM head or the score head is refused (PEFT would adapt or save them; Whetstone does not), and so
 * is selecting nothing, which PEFT refuses too ("Target modules ... not found in the base model").
 */
export function targetedModules(model: DecoderConfig, targets: readonly string[] | string): TargetedModule[] {
  const isAllLinear = typeof targets === 'string' && targets.toLowerCase() === 'all-linear';
  if (!isAllLinear) {
    const outside = outsideModules(model).filter((path) => matchesTarget(targets, path));
    if (outside.length) {
      throw new UnsupportedAdapterFeatureError(
        'target_modules',
        targets,
        `it selects ${outside.join(', ')}; Whetstone adapts only the linear layers inside the decoder layers.`,
      );
    }
  }
  const found: TargetedModule[] = [];
  for (let layer = 0; layer < model.L; layer++) {
    for (const module of layerLinearModules(model)) {
      const path = hfModulePath(model, layer, module.path);
      if (matchesTarget(targets, path)) found.push({ layer, module, path });
    }
  }
  if (found.length === 0) {
    throw new AdapterModelMismatchError(
      `target_modules ${JSON.stringify(targets)} selects no module of ${model.architecture}, whose layers ` +
        `hold ${layerLinearModules(model)
          .map((m) => m.path)
          .join(', ')}.`,
    );
  }
  return found;
}
