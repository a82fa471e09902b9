/**
 * How the studio names a method and its settings: the run's label ("LoRA r8", "QLoRA r8", "Full SFT")
 * and the one-line summary of its settings on run cards and in the history. A DPO run's label adds
 * " · DPO" (run-setup.ts), its card the β.
 */
import type { MethodSpec } from '../../train/worker/run-spec';

/** The method's name; on a frozen base quantized to NF4, LoRA is QLoRA and the others say so. */
export function methodLabel(method: MethodSpec, baseQuantization?: 'nf4'): string {
  if (!baseQuantization) return plainMethodLabel(method);
  if (method.method === 'lora') return `QLoRA${method.useRslora ? ' (rsLoRA)' : ''} r${method.r}`;
  return `${plainMethodLabel(method)}, NF4 base`;
}

function plainMethodLabel(method: MethodSpec): string {
  switch (method.method) {
    case 'full':
      return 'Full SFT';
    case 'lora':
      return `${method.useRslora ? 'rsLoRA' : 'LoRA'} r${method.r}`;
    case 'dora':
      return `DoRA r${method.r}`;
    case 'ia3':
      return 'IA3';
    case 'prompt':
      return `Prompt tuning (${method.numVirtualTokens} tokens)`;
    case 'prefix':
      return `Prefix tuning (${method.numVirtualTokens} tokens)`;
    case 'adapter':
      return `Adapters (÷${method.reductionFactor})`;
  }
}

/** The method's settings in a line, for run cards and the history. */
export function methodDetails(method: MethodSpec): string {
  switch (method.method) {
    case 'full':
      return 'all weights trained';
    case 'lora':
    case 'dora': {
      const targets =
        method.targetModules === 'all-linear'
          ? 'all-linear'
          : (method.targetModules?.join(', ') ?? "PEFT's default");
      return `r ${method.r}, alpha ${method.alpha}${method.useRslora ? ' (rsLoRA)' : ''}, dropout ${method.dropout}, targets ${targets}`;
    }
    case 'ia3':
      return "learned scales on PEFT's default targets";
    case 'prompt':
    case 'prefix':
      return `${method.numVirtualTokens} virtual tokens`;
    case 'adapter':
      return `bottleneck width = hidden size ÷ ${method.reductionFactor}`;
  }
}
