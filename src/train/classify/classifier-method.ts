/**
 * A MethodSpec (src/train/worker/run-spec.ts) to an encoder classifier's training method, and the folder
 * it saves: full (a Hugging Face model folder, classifier-folder.ts), lora, dora, ia3, prompt, prefix
 * (PEFT SEQ_CLS folders with the head as modules_to_save) and adapter (bottleneck adapters, Whetstone's
 * own format). `whetstone train --task classification` and the studio's classification runs both build
 * their method here, so the same settings give the same adaptation and the same files.
 */
import type { Runtime } from '../../gpu/runtime';
import type { EncoderModel } from '../models/bert';
import type { Adaptation } from '../peft/adaptation';
import type { MethodSpec } from '../worker/run-spec';
import {
  encoderBottleneck,
  encoderBottleneckFiles,
  encoderIa3,
  encoderIa3AdapterFiles,
} from './encoder-ia3-bottleneck';
import { encoderDora, encoderLora, encoderLoraAdapterFiles } from './encoder-lora';
import { EncoderFullFineTuning } from './encoder-methods';
import {
  encoderPrefixTuning,
  encoderPromptLearningFiles,
  encoderPromptTuning,
} from './encoder-prompt-learning';

export class ClassifierMethodError extends Error {
  override readonly name = 'ClassifierMethodError';
}

/** run_glue's 2e-5 for full fine-tuning; the rates PEFT's examples use for each method otherwise. */
export function defaultLearningRate(method: string): number {
  if (method === 'full') return 2e-5;
  if (method === 'ia3') return 3e-3;
  if (method === 'prompt' || method === 'prefix') return 1e-2;
  if (method === 'bottleneck' || method === 'adapter') return 1e-3;
  return 5e-4;
}

export interface ClassifierMethod {
  adaptation: Adaptation;
  /** The folder to write; undefined for full fine-tuning (the caller writes the model folder). */
  files(baseModelNameOrPath: string | null): Promise<Record<string, string | Uint8Array>> | undefined;
}

export async function classifierMethodFromSpec(
  runtime: Runtime,
  model: EncoderModel,
  spec: MethodSpec,
  seed: number,
  /** Head weights the checkpoint lacked: trained and saved with the classifier. */
  initialisedHead: readonly string[],
): Promise<ClassifierMethod> {
  switch (spec.method) {
    case 'full':
      return { adaptation: new EncoderFullFineTuning(runtime, model), files: () => undefined };
    case 'lora':
    case 'dora': {
      const options = {
        r: spec.r,
        alpha: spec.alpha,
        dropout: spec.dropout,
        useRslora: spec.useRslora ?? false,
        ...(spec.targetModules ? { targetModules: spec.targetModules } : {}),
        seed,
      };
      const trained =
        spec.method === 'dora'
          ? await encoderDora(runtime, model, options, undefined, initialisedHead)
          : encoderLora(runtime, model, options, undefined, initialisedHead);
      return {
        adaptation: trained.adaptation,
        files: (base) => encoderLoraAdapterFiles(runtime, model, trained, base),
      };
    }
    case 'ia3': {
      const trained = encoderIa3(
        runtime,
        model,
        spec.targetModules ? { targetModules: spec.targetModules } : {},
        undefined,
        initialisedHead,
      );
      return {
        adaptation: trained.adaptation,
        files: (base) => encoderIa3AdapterFiles(runtime, model, trained, base),
      };
    }
    case 'prompt':
    case 'prefix': {
      const { numVirtualTokens } = spec;
      const trained =
        spec.method === 'prompt'
          ? encoderPromptTuning(runtime, model, { numVirtualTokens, seed }, undefined, initialisedHead)
          : encoderPrefixTuning(
              runtime,
              model,
              {
                numVirtualTokens,
                prefixProjection: spec.prefixProjection ?? false,
                ...(spec.encoderHiddenSize === undefined
                  ? {}
                  : { encoderHiddenSize: spec.encoderHiddenSize }),
                seed,
              },
              undefined,
              initialisedHead,
            );
      return {
        adaptation: trained.adaptation,
        files: (base) => encoderPromptLearningFiles(runtime, model, trained, base),
      };
    }
    case 'adapter': {
      if (!(spec.reductionFactor > 0 && spec.reductionFactor <= model.config.C))
        throw new ClassifierMethodError(
          `The adapter reduction factor must lie in (0, ${model.config.C}] for this model (its width is ${model.config.C}); got ${spec.reductionFactor}.`,
        );
      const trained = encoderBottleneck(
        runtime,
        model,
        { reductionFactor: spec.reductionFactor, seed },
        undefined,
        initialisedHead,
      );
      return {
        adaptation: trained.adaptation,
        files: (base) => encoderBottleneckFiles(runtime, model, trained, base),
      };
    }
    default:
      throw new ClassifierMethodError(
        `Unknown training method "${(spec as { method: string }).method}"; use full, lora, dora, ia3, prompt, prefix or adapter.`,
      );
  }
}
