/**
 * An adapter merged into its base model's weights, for `whetstone merge`: the model's parameters as
 * tensors to write as a Hugging Face folder, which then loads and runs with no PEFT. Merges what PEFT's
 * merge_and_unload merges: LoRA (and rsLoRA), DoRA and IA3, each in float64 (merge-lora.ts,
 * merge-dora.ts, merge-ia3.ts). Prompt and prefix tuning and bottleneck adapters add computation that no
 * weight can absorb, so they are refused with `MergeUnsupportedError`, which says why.
 */
import { loraScale } from '../../gpu/kernels/lora-linear/lora-linear';
import type { Runtime } from '../../gpu/runtime';
import { downloadTensor, type Tensor } from '../../gpu/tensor';
import type { DecoderModel } from '../models/decoder-step';
import type { Adaptation, LinearSite } from '../peft/adaptation';
import type { DoraAdaptation } from '../peft/dora';
import type { Ia3Adaptation } from '../peft/ia3';
import type { LoraAdaptation } from '../peft/lora';
import { modelTensors } from './hf-folder';
import { mergeDoraWeight } from './merge-dora';
import { mergeIa3Bias, mergeIa3Weight } from './merge-ia3';
import { mergeLoraWeight } from './merge-lora';

export class MergeUnsupportedError extends Error {
  override readonly name = 'MergeUnsupportedError';
}

/** Why a method cannot be merged into the base weights. */
const notMergeable: Record<string, string> = {
  prompt:
    'prompt tuning prepends learned virtual-token embeddings to every input; no weight of the base model can hold them (PEFT cannot merge it either). Load the adapter with --adapter instead.',
  prefix:
    'prefix tuning adds learned key/value prefixes to every attention layer; they are extra inputs, not a change to any weight (PEFT cannot merge it either). Load the adapter with --adapter instead.',
  bottleneck:
    'bottleneck adapters add new layers (down-projection, nonlinearity, up-projection) after attention and the feed-forward block; a nonlinear layer cannot be folded into a linear weight. Load the adapter with --adapter instead.',
  full: 'a full fine-tune is already a complete model folder; there is nothing to merge.',
};

/** The merge of one layer, by name of the parameter it replaces. */
type Edits = Map<string, (data: Float32Array) => Float32Array>;

function nameOf(model: DecoderModel, tensor: Tensor): string {
  for (const [name, t] of model.params) if (t === tensor) return name;
  throw new Error(`The base model has no parameter for ${tensor.label}.`);
}

const shapeOf = (site: LinearSite) => ({ out: site.outFeatures, in: site.inFeatures });

async function loraEdits(runtime: Runtime, model: DecoderModel, lora: LoraAdaptation | DoraAdaptation) {
  const edits: Edits = new Map();
  const { r } = lora.options;
  const dora = lora.method === 'dora';
  const scale = loraScale({ rank: r, alpha: lora.options.alpha, rsLora: lora.options.useRslora });
  for (const [, w] of (lora as DoraAdaptation).weights()) {
    const a = await downloadTensor(runtime.arena, w.a);
    const b = await downloadTensor(runtime.arena, w.b);
    const shape = { ...shapeOf(w.site), r };
    const layout = w.site.base.layout;
    if (dora) {
      const magnitude = await downloadTensor(runtime.arena, w.magnitude);
      edits.set(nameOf(model, w.site.base.weight), (data) =>
        mergeDoraWeight(data, a, b, magnitude, shape, scale, layout),
      );
    } else {
      edits.set(nameOf(model, w.site.base.weight), (data) =>
        mergeLoraWeight(data, a, b, shape, scale, layout),
      );
    }
  }
  return edits;
}

async function ia3Edits(runtime: Runtime, model: DecoderModel, ia3: Ia3Adaptation) {
  const edits: Edits = new Map();
  for (const [, v] of ia3.weights()) {
    const l = await downloadTensor(runtime.arena, v.l);
    const { base } = v.site;
    edits.set(nameOf(model, base.weight), (data) =>
      mergeIa3Weight(data, l, shapeOf(v.site), v.feedforward, base.layout),
    );
    // An output-scaled module scales its bias too (PEFT's merge does; our forward scales x·Wᵀ + b).
    if (!v.feedforward && base.bias) edits.set(nameOf(model, base.bias), (data) => mergeIa3Bias(data, l));
  }
  return edits;
}

/** Every parameter of the model with the adapter merged in, and how many layers changed. */
export async function mergedModelTensors(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: Adaptation,
): Promise<{ tensors: { name: string; shape: number[]; data: Float32Array }[]; layers: number }> {
  let edits: Edits;
  if (adaptation.method === 'lora' || adaptation.method === 'dora') {
    edits = await loraEdits(runtime, model, adaptation as LoraAdaptation | DoraAdaptation);
  } else if (adaptation.method === 'ia3') {
    edits = await ia3Edits(runtime, model, adaptation as Ia3Adaptation);
  } else {
    const why = notMergeable[adaptation.method] ?? 'Whetstone does not know how to merge it.';
    throw new MergeUnsupportedError(
      `Cannot merge a ${adaptation.method} adapter into the base weights: ${why}`,
    );
  }
  const tensors = await modelTensors(runtime, model.params, (name, data) => {
    const edit = edits.get(name);
    return edit ? edit(data) : data;
  });
  const layers = [...edits.keys()].filter((name) => name.endsWith('weight')).length;
  return { tensors, layers };
}
