/**
 * The split-K workspace (src/gpu/kernels/matmul/split-k.ts, whose constants plan.cpu.test.ts holds these
 * to): the partial products of weight-gradient matmuls, one buffer a runtime allocates at its first split
 * and keeps. A weight gradient splits when K (the step's tokens) is at least twice the shortest range
 * and its output launches few workgroups: LoRA's and DoRA's dA and dB and the adapters' projections always
 * do then; full fine-tuning's dW do where some projection is narrow (k_proj and v_proj under GQA), which
 * is every model that runs in a browser. Counted for those methods from that many tokens on; for a large
 * model's full fine-tuning whose every dW is wide, that is 8 MiB too many, on the safe side.
 */
import type { MethodSettings } from './method-settings';

export const splitKMinChunk = 256;
export const splitKWorkspaceBytes = 8 * 2 ** 20;

export function splitKWorkspaceUsed(m: MethodSettings, tokens: number, backward: boolean): boolean {
  const trainsMatrices = ['full', 'lora', 'dora', 'adapter'].includes(m.method);
  return backward && trainsMatrices && tokens >= 2 * splitKMinChunk;
}
