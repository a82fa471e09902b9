/**
 * The training method of `whetstone train --task classification --method M` from its flags, and the
 * folder it saves: full (a Hugging Face model folder, written by the caller), lora, dora, ia3, prompt,
 * prefix (PEFT SEQ_CLS folders with the head as modules_to_save) and bottleneck (alias adapter, as the
 * decoder CLI names it; Whetstone's own format). Defaults: LoRA/DoRA r 8, alpha 16, dropout 0.1 on
 * PEFT's default targets; IA3 on PEFT's targets; 20 virtual tokens for prompt and prefix tuning;
 * reduction factor 16 for bottleneck adapters. Learning rates default per method (see defaultLearningRate).
 */
import type { Runtime } from '../gpu/runtime';
import {
  encoderBottleneck,
  encoderBottleneckFiles,
  encoderIa3,
  encoderIa3AdapterFiles,
} from '../train/classify/encoder-ia3-bottleneck';
import { encoderDora, encoderLora, encoderLoraAdapterFiles } from '../train/classify/encoder-lora';
import { EncoderFullFineTuning } from '../train/classify/encoder-methods';
import {
  encoderPrefixTuning,
  encoderPromptLearningFiles,
  encoderPromptTuning,
} from '../train/classify/encoder-prompt-learning';
import type { EncoderModel } from '../train/models/bert';
import type { Adaptation } from '../train/peft/adaptation';
import { numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

export const classifierMethods = ['full', 'lora', 'dora', 'ia3', 'prompt', 'prefix', 'bottleneck', 'adapter'];

type Flags = Partial<Record<string, string | boolean>>;

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

export async function classifierMethodFromFlags(
  runtime: Runtime,
  model: EncoderModel,
  method: string,
  flags: Flags,
  seed: number,
  /** Head weights the checkpoint lacked: trained and saved with the classifier. */
  initialisedHead: readonly string[],
): Promise<ClassifierMethod> {
  const int = (name: string, fallback: number, min = 1) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n >= min);
  const targets = flags['target-modules'];
  const targetModules =
    typeof targets === 'string'
      ? { targetModules: targets === 'all-linear' ? ('all-linear' as const) : targets.split(',') }
      : {};
  if (method === 'full') {
    return { adaptation: new EncoderFullFineTuning(runtime, model), files: () => undefined };
  }
  if (method === 'lora' || method === 'dora') {
    const options = {
      r: int('lora-r', 8),
      alpha: numberFlag(flags['lora-alpha'], 'lora-alpha', 16, (n) => n > 0),
      dropout: numberFlag(flags['lora-dropout'], 'lora-dropout', 0.1, (n) => n >= 0 && n < 1),
      useRslora: flags['use-rslora'] === true,
      ...targetModules,
      seed,
    };
    const trained =
      method === 'dora'
        ? await encoderDora(runtime, model, options, undefined, initialisedHead)
        : encoderLora(runtime, model, options, undefined, initialisedHead);
    return {
      adaptation: trained.adaptation,
      files: (base) => encoderLoraAdapterFiles(runtime, model, trained, base),
    };
  }
  if (method === 'ia3') {
    const trained = encoderIa3(runtime, model, targetModules, undefined, initialisedHead);
    return {
      adaptation: trained.adaptation,
      files: (base) => encoderIa3AdapterFiles(runtime, model, trained, base),
    };
  }
  if (method === 'prompt' || method === 'prefix') {
    const numVirtualTokens = int('num-virtual-tokens', 20);
    const trained =
      method === 'prompt'
        ? encoderPromptTuning(runtime, model, { numVirtualTokens, seed }, undefined, initialisedHead)
        : encoderPrefixTuning(
            runtime,
            model,
            {
              numVirtualTokens,
              prefixProjection: flags['prefix-projection'] === true,
              ...(flags['encoder-hidden-size'] !== undefined
                ? { encoderHiddenSize: int('encoder-hidden-size', 1) }
                : {}),
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
  if (method === 'bottleneck' || method === 'adapter') {
    const trained = encoderBottleneck(
      runtime,
      model,
      { reductionFactor: int('reduction-factor', 16), seed },
      undefined,
      initialisedHead,
    );
    return {
      adaptation: trained.adaptation,
      files: (base) => encoderBottleneckFiles(runtime, model, trained, base),
    };
  }
  throw new CliUsageError(
    `--task classification trains --method ${classifierMethods.join('|')}, not ${method}.`,
  );
}
