/**
 * `train`'s method flags into the adaptation it trains: full fine-tuning, LoRA or DoRA (--lora-r,
 * --lora-alpha, --lora-dropout, --target-modules, --use-rslora), IA3, prompt and prefix tuning
 * (--num-virtual-tokens, --prefix-projection, --encoder-hidden-size), bottleneck adapters
 * (--reduction-factor), or a saved adapter to go on training (--init-adapter DIR).
 */
import type { Runtime } from '../gpu/runtime';
import type { DecoderModel } from '../train/models/decoder-step';
import { BottleneckAdaptation } from '../train/peft/bottleneck';
import { DoraAdaptation } from '../train/peft/dora';
import { FullFineTuning } from '../train/peft/full';
import { Ia3Adaptation } from '../train/peft/ia3';
import { LoraAdaptation, type LoraOptions } from '../train/peft/lora';
import { PrefixTuningAdaptation } from '../train/peft/prefix-tuning';
import { PromptTuningAdaptation } from '../train/peft/prompt-tuning';
import { loadAdapter, numberFlag } from './load-model';
import type { TrainFlags } from './train';
import { CliUsageError } from './usage-error';

export type TrainedAdaptation =
  | FullFineTuning
  | LoraAdaptation
  | DoraAdaptation
  | Ia3Adaptation
  | BottleneckAdaptation
  | PromptTuningAdaptation
  | PrefixTuningAdaptation;

export async function adaptationFromFlags(
  flags: TrainFlags,
  method: string,
  runtime: Runtime,
  model: DecoderModel,
  seed: number,
): Promise<TrainedAdaptation> {
  if (method === 'full') {
    return new FullFineTuning(runtime, model);
  } else if (typeof flags['init-adapter'] === 'string') {
    return await loadAdapter(runtime, model, flags['init-adapter'], { seed });
  } else if (method === 'adapter') {
    return new BottleneckAdaptation(runtime, model, {
      // The bottleneck width floor(C / N) must be at least 1.
      reductionFactor: numberFlag(
        flags['reduction-factor'],
        'reduction-factor',
        16,
        (n) => n > 0 && n <= model.config.C,
      ),
      seed,
    });
  } else if (method === 'prompt') {
    return new PromptTuningAdaptation(runtime, model, {
      numVirtualTokens: numberFlag(
        flags['num-virtual-tokens'],
        'num-virtual-tokens',
        20,
        (n) => Number.isInteger(n) && n > 0,
      ),
      seed,
    });
  } else if (method === 'prefix') {
    const projection = flags['prefix-projection'] === true;
    if (flags['encoder-hidden-size'] !== undefined && !projection)
      throw new CliUsageError(
        '--encoder-hidden-size sizes the --prefix-projection MLP; give both or neither.',
      );
    return new PrefixTuningAdaptation(runtime, model, {
      numVirtualTokens: numberFlag(
        flags['num-virtual-tokens'],
        'num-virtual-tokens',
        20,
        (n) => Number.isInteger(n) && n > 0,
      ),
      prefixProjection: projection,
      ...(flags['encoder-hidden-size'] === undefined
        ? {}
        : {
            encoderHiddenSize: numberFlag(
              flags['encoder-hidden-size'],
              'encoder-hidden-size',
              0,
              (n) => Number.isInteger(n) && n > 0,
            ),
          }),
      seed,
    });
  } else if (method === 'ia3') {
    // PEFT's default targets and feed-forward modules unless --target-modules names others.
    const targets = flags['target-modules'];
    return new Ia3Adaptation(
      runtime,
      model,
      typeof targets === 'string'
        ? { targetModules: targets === 'all-linear' ? 'all-linear' : targets.split(',').map((t) => t.trim()) }
        : {},
    );
  } else {
    const targets = typeof flags['target-modules'] === 'string' ? flags['target-modules'] : undefined;
    // DoRA takes LoRA's flags.
    const loraOptions: LoraOptions = {
      r: numberFlag(flags['lora-r'], 'lora-r', 8, (n) => Number.isInteger(n) && n > 0),
      alpha: numberFlag(flags['lora-alpha'], 'lora-alpha', 8, (n) => n > 0),
      dropout: numberFlag(flags['lora-dropout'], 'lora-dropout', 0, (n) => n >= 0 && n < 1),
      ...(targets
        ? { targetModules: targets === 'all-linear' ? 'all-linear' : targets.split(',').map((t) => t.trim()) }
        : {}),
      useRslora: flags['use-rslora'] === true,
      seed,
    };
    return method === 'dora'
      ? await DoraAdaptation.create(runtime, model, loraOptions)
      : new LoraAdaptation(runtime, model, loraOptions);
  }
}
