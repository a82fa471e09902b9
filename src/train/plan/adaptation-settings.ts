/**
 * Between the planner's plain MethodSettings and the training methods themselves (src/train/peft):
 * `methodSettingsOf(adaptation)` reads back what an adaptation allocates by, so the trainer can plan the
 * run it was given; `createAdaptation(settings)` builds one, for tests and callers that start from
 * settings. This file imports the GPU side; the planner proper (memory-plan.ts) does not.
 */
import type { Runtime } from '../../gpu/runtime';
import type { DecoderModel } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import { BottleneckAdaptation } from '../peft/bottleneck';
import { DoraAdaptation } from '../peft/dora';
import { FullFineTuning } from '../peft/full';
import { Ia3Adaptation } from '../peft/ia3';
import { LoraAdaptation } from '../peft/lora';
import { PrefixTuningAdaptation } from '../peft/prefix-tuning';
import { PromptTuningAdaptation } from '../peft/prompt-tuning';
import type { MethodSettings } from './method-settings';

/** The settings an adaptation was built with, as far as its buffers go; undefined for an unknown one. */
export function methodSettingsOf(adaptation: Adaptation, model: DecoderModel): MethodSettings | undefined {
  if (adaptation instanceof FullFineTuning) {
    const embedding = model.config.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight';
    return { method: 'full', freezeEmbeddings: !adaptation.grads.has(embedding) };
  }
  if (adaptation instanceof LoraAdaptation || adaptation instanceof DoraAdaptation) {
    const o = adaptation.options;
    return {
      method: adaptation instanceof DoraAdaptation ? 'dora' : 'lora',
      r: o.r,
      targetModules: adaptation.targets,
      dropout: o.dropout ?? 0,
    };
  }
  if (adaptation instanceof Ia3Adaptation) {
    return {
      method: 'ia3',
      targetModules: adaptation.targets === 'all-linear' ? 'all-linear' : [...adaptation.targets],
      feedforwardModules: [...adaptation.feedforward],
    };
  }
  if (adaptation instanceof PromptTuningAdaptation)
    return { method: 'prompt', numVirtualTokens: adaptation.virtualTokens };
  if (adaptation instanceof PrefixTuningAdaptation) {
    const o = adaptation.options;
    return {
      method: 'prefix',
      numVirtualTokens: adaptation.prefixTokens,
      prefixProjection: Boolean(o.prefixProjection),
      ...(o.encoderHiddenSize ? { encoderHiddenSize: o.encoderHiddenSize } : {}),
    };
  }
  if (adaptation instanceof BottleneckAdaptation) {
    return {
      method: 'adapter',
      reductionFactor: adaptation.config.reductionFactor,
      positions: [...adaptation.config.positions],
    };
  }
  return undefined;
}

/** The adaptation for these settings (alpha = r, seed 0 where the settings leave them open). */
export async function createAdaptation(
  runtime: Runtime,
  model: DecoderModel,
  m: MethodSettings,
  seed = 0,
): Promise<Adaptation> {
  switch (m.method) {
    case 'full':
      return new FullFineTuning(runtime, model, { freezeEmbeddings: m.freezeEmbeddings });
    case 'lora':
    case 'dora': {
      const options = {
        r: m.r,
        alpha: m.r,
        dropout: m.dropout ?? 0,
        seed,
        ...(m.targetModules ? { targetModules: m.targetModules } : {}),
      };
      return m.method === 'dora'
        ? DoraAdaptation.create(runtime, model, options)
        : new LoraAdaptation(runtime, model, options);
    }
    case 'ia3':
      return new Ia3Adaptation(runtime, model, {
        ...(m.targetModules ? { targetModules: m.targetModules } : {}),
        ...(m.feedforwardModules ? { feedforwardModules: m.feedforwardModules } : {}),
      });
    case 'prompt':
      return new PromptTuningAdaptation(runtime, model, { numVirtualTokens: m.numVirtualTokens, seed });
    case 'prefix':
      return new PrefixTuningAdaptation(runtime, model, {
        numVirtualTokens: m.numVirtualTokens,
        prefixProjection: Boolean(m.prefixProjection),
        ...(m.encoderHiddenSize ? { encoderHiddenSize: m.encoderHiddenSize } : {}),
        seed,
      });
    case 'adapter':
      return new BottleneckAdaptation(runtime, model, {
        reductionFactor: m.reductionFactor,
        ...(m.positions ? { positions: m.positions } : {}),
        seed,
      });
  }
}
