/**
 * `--loraplus-lr-ratio R` (train, both tasks): LoRA+ (Hayou et al. 2024), LoRA's B matrices and every
 * trainable vector at R × --lr, as PEFT's create_loraplus_optimizer groups them (TrainConfig.loraPlusLrRatio).
 * A run of another method refuses it by name when its trainer is made.
 */
import { numberFlag } from './load-model';

export function loraPlusFromFlags(flags: Partial<Record<string, string | boolean>>): {
  loraPlusLrRatio?: number;
} {
  if (flags['loraplus-lr-ratio'] === undefined) return {};
  return { loraPlusLrRatio: numberFlag(flags['loraplus-lr-ratio'], 'loraplus-lr-ratio', 1, (n) => n > 0) };
}
