/**
 * requirements.txt of an exported job: exact pins, so the job runs the same next year. One set of
 * releases that go together (late 2026): TRL 1.16 needs transformers >= 4.56.2, accelerate >= 1.4 and
 * datasets >= 4.7; PEFT 0.21 reads the adapter_config.json format Whetstone writes (PEFT 0.20's, whose
 * fields it keeps); DeepSpeed only for the ZeRO configs. torch's wheel must suit the machine's CUDA:
 * README.md says how to pick another. A QLoRA run (a quantized base) adds bitsandbytes 0.50.2, the newest
 * release when these were pinned (it takes torch >= 2.4, < 3, and stores 4-bit codes in a float dtype for
 * FSDP and ZeRO-3 to shard, which needs >= 0.43.3); a run without quantization leaves it out.
 */
import type { BaseQuantization } from './run-config';

export const pinnedPackages: Readonly<Record<string, string>> = {
  torch: '2.15.0',
  transformers: '5.23.0',
  datasets: '5.2.0',
  accelerate: '1.15.0',
  peft: '0.21.2',
  trl: '1.16.0',
  deepspeed: '0.19.8',
};

/** What a quantized base adds: bitsandbytes quantizes it as it loads (CUDA GPUs only). */
export const quantizationPackages: Readonly<Record<string, string>> = { bitsandbytes: '0.50.2' };

export function requirementsTxt(quantization?: BaseQuantization): string {
  const pins = quantization ? { ...pinnedPackages, ...quantizationPackages } : pinnedPackages;
  const lines = Object.entries(pins).map(([name, version]) => `${name}==${version}`);
  const header = [
    '# Pinned by whetstone export-job. deepspeed is needed only for accelerate/deepspeed_*.yaml.',
    ...(quantization
      ? [`# bitsandbytes loads the base in 4-bit ${quantization.toUpperCase()} (QLoRA); it needs a CUDA GPU.`]
      : []),
  ];
  return `${header.join('\n')}\n${lines.join('\n')}\n`;
}

/** A classification job's pins: the same releases, less TRL and DeepSpeed (Trainer on DDP needs neither). */
export function classificationRequirementsTxt(): string {
  const lines = Object.entries(pinnedPackages)
    .filter(([name]) => name !== 'trl' && name !== 'deepspeed')
    .map(([name, version]) => `${name}==${version}`);
  return `# Pinned by Whetstone's classification export.\n${lines.join('\n')}\n`;
}
