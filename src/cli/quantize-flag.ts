/**
 * `--quantize nf4` (train, eval, generate, plan): the decoder layers' frozen matrices load as 4-bit
 * NormalFloat, as QLoRA loads them (bitsandbytes' load_in_4bit with nf4; src/train/models/weight-storage.ts).
 * Only a frozen base can be quantized, so full fine-tuning refuses it, and so do encoder classifiers.
 */
import { CliUsageError } from './usage-error';

export type BaseQuantization = 'nf4';

export function quantizationFromFlags(
  flags: { quantize?: string | boolean; task?: string | boolean },
  method?: string,
): BaseQuantization | undefined {
  const value = flags.quantize;
  if (value === undefined) return undefined;
  if (value !== 'nf4')
    throw new CliUsageError(
      `--quantize ${String(value)}: the one quantization is nf4 (QLoRA's 4-bit NormalFloat).`,
    );
  if (flags.task === 'classification')
    throw new CliUsageError(
      '--quantize nf4 applies to decoder language models; encoder classifiers load in f32.',
    );
  if (method === 'full')
    throw new CliUsageError(
      '--quantize nf4 quantizes a frozen base, and full fine-tuning trains every weight in f32. Use a PEFT method such as --method lora.',
    );
  return value;
}
