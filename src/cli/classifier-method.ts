/**
 * The training method of `whetstone train --task classification --method M` from its flags: full, lora,
 * dora, ia3, prompt, prefix and bottleneck (alias adapter, as the decoder CLI names it). The flags become
 * a MethodSpec, and src/train/classify/classifier-method.ts builds the adaptation and its folder, the same
 * code the studio's classification runs use. Defaults: LoRA/DoRA r 8, alpha 16, dropout 0.1 on PEFT's
 * default targets; IA3 on PEFT's targets; 20 virtual tokens for prompt and prefix tuning; reduction
 * factor 16 for bottleneck adapters. Learning rates default per method (see defaultLearningRate).
 */
import { type ClassifierMethod, defaultLearningRate } from '../train/classify/classifier-method';
import type { MethodSpec } from '../train/worker/run-spec';
import { numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

export { type ClassifierMethod, defaultLearningRate };

export const classifierMethods = ['full', 'lora', 'dora', 'ia3', 'prompt', 'prefix', 'bottleneck', 'adapter'];

type Flags = Partial<Record<string, string | boolean>>;

/** The method flags as a MethodSpec; unknown methods are refused with the list. */
export function classifierMethodSpec(method: string, flags: Flags): MethodSpec {
  const int = (name: string, fallback: number, min = 1) =>
    numberFlag(flags[name], name, fallback, (n) => Number.isInteger(n) && n >= min);
  const targets = flags['target-modules'];
  const targetModules =
    typeof targets === 'string'
      ? { targetModules: targets === 'all-linear' ? ('all-linear' as const) : targets.split(',') }
      : {};
  if (method === 'full') return { method: 'full' };
  if (method === 'lora' || method === 'dora')
    return {
      method,
      r: int('lora-r', 8),
      alpha: numberFlag(flags['lora-alpha'], 'lora-alpha', 16, (n) => n > 0),
      dropout: numberFlag(flags['lora-dropout'], 'lora-dropout', 0.1, (n) => n >= 0 && n < 1),
      useRslora: flags['use-rslora'] === true,
      ...targetModules,
    };
  if (method === 'ia3') return { method: 'ia3', ...targetModules };
  if (method === 'prompt') return { method: 'prompt', numVirtualTokens: int('num-virtual-tokens', 20) };
  if (method === 'prefix')
    return {
      method: 'prefix',
      numVirtualTokens: int('num-virtual-tokens', 20),
      prefixProjection: flags['prefix-projection'] === true,
      ...(flags['encoder-hidden-size'] !== undefined
        ? { encoderHiddenSize: int('encoder-hidden-size', 1) }
        : {}),
    };
  if (method === 'bottleneck' || method === 'adapter')
    return { method: 'adapter', reductionFactor: int('reduction-factor', 16) };
  throw new CliUsageError(
    `--task classification trains --method ${classifierMethods.join('|')}, not ${method}.`,
  );
}
