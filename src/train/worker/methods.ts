/**
 * A MethodSpec to its Adaptation (the PEFT classes of src/train/peft), and a trained adaptation to its
 * files: a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) for every PEFT method,
 * a Hugging Face model folder for full fine-tuning. The same choices as the CLI's `train` command.
 */
import type { Runtime } from '../../gpu/runtime';
import { bottleneckFromAdapter, isBottleneckAdapter } from '../export/bottleneck-adapter';
import { ia3FromAdapter, isIa3Adapter } from '../export/ia3-adapter';
import { loraFromAdapter } from '../export/lora-adapter';
import { isPrefixTuningAdapter, prefixTuningFromAdapter } from '../export/prefix-adapter';
import { isPromptTuningAdapter, promptTuningFromAdapter } from '../export/prompt-adapter';
import type { DecoderModel } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import { BottleneckAdaptation } from '../peft/bottleneck';
import { DoraAdaptation } from '../peft/dora';
import { FullFineTuning } from '../peft/full';
import { Ia3Adaptation } from '../peft/ia3';
import { LoraAdaptation } from '../peft/lora';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { PromptTuningAdaptation } from '../peft/prompt-tuning';
import type { MethodSpec } from './run-spec';

export { trainedFiles } from '../export/trained-files';

export class MethodSpecError extends Error {
  override readonly name = 'MethodSpecError';
}

export async function createAdaptation(
  runtime: Runtime,
  model: DecoderModel,
  spec: MethodSpec,
  seed: number,
): Promise<Adaptation> {
  switch (spec.method) {
    case 'full':
      return new FullFineTuning(runtime, model);
    case 'lora':
    case 'dora': {
      const options = {
        r: spec.r,
        alpha: spec.alpha,
        dropout: spec.dropout,
        ...(spec.targetModules ? { targetModules: spec.targetModules } : {}),
        useRslora: spec.useRslora ?? false,
        seed,
      };
      return spec.method === 'dora'
        ? DoraAdaptation.create(runtime, model, options)
        : new LoraAdaptation(runtime, model, options);
    }
    case 'ia3':
      return new Ia3Adaptation(
        runtime,
        model,
        spec.targetModules ? { targetModules: spec.targetModules } : {},
      );
    case 'prompt':
      return new PromptTuningAdaptation(runtime, model, { numVirtualTokens: spec.numVirtualTokens, seed });
    case 'prefix':
      return new PrefixTuningAdaptation(runtime, model, {
        numVirtualTokens: spec.numVirtualTokens,
        prefixProjection: spec.prefixProjection ?? false,
        ...(spec.encoderHiddenSize === undefined ? {} : { encoderHiddenSize: spec.encoderHiddenSize }),
        seed,
      });
    case 'adapter':
      if (!(spec.reductionFactor > 0 && spec.reductionFactor <= model.config.C))
        throw new MethodSpecError(
          `The adapter reduction factor must lie in (0, ${model.config.C}] for this model (its width is ${model.config.C}); got ${spec.reductionFactor}.`,
        );
      return new BottleneckAdaptation(runtime, model, { reductionFactor: spec.reductionFactor, seed });
    default:
      throw new MethodSpecError(
        `Unknown training method "${(spec as { method: string }).method}"; use full, lora, dora, ia3, prompt, prefix or adapter.`,
      );
  }
}

/** True when the run's result is a PEFT adapter folder rather than a whole model. */
export const isPeftMethod = (spec: MethodSpec) => spec.method !== 'full';

/** A saved adapter folder (PEFT's, or Whetstone's bottleneck format) on its base model, by its type. */
export function adaptationFromFiles(
  runtime: Runtime,
  model: DecoderModel,
  files: Record<string, Uint8Array>,
): Adaptation {
  if (isBottleneckAdapter(files)) return bottleneckFromAdapter(runtime, model, files);
  if (isIa3Adapter(files)) return ia3FromAdapter(runtime, model, files);
  if (isPromptTuningAdapter(files)) return promptTuningFromAdapter(runtime, model, files);
  if (isPrefixTuningAdapter(files)) return prefixTuningFromAdapter(runtime, model, files);
  // LoRA and DoRA; any other type is refused there with a named error.
  return loraFromAdapter(runtime, model, files);
}
