/**
 * Refuses an encoder classification run that cannot fit, before any weight reaches the GPU. The planner
 * (src/train/plan) models decoder LMs only, so this checks what WebGPU caps for certain: every tensor of
 * the step must fit one buffer binding (min(maxStorageBufferBindingSize, maxBufferSize)), the largest
 * being the word-embedding table [V, C], the feed-forward activations [B·T, F] and the attention scores
 * [B·NH, T, T]; and an estimate of the whole run (weights, the trainable tensors' gradients and AdamW
 * moments, activations kept for the backward pass) against the run's memory budget. The whole-run figure
 * is an estimate and the message says so.
 *
 * Dimension letters: B batch, T tokens, C width, F feed-forward width, NH heads, V vocabulary, L layers.
 */
import { ModelTooLargeError } from '../buffer-limits';
import type { EncoderConfig } from '../models/bert-config';
import { defaultMemoryBudgetBytes } from '../plan/fit';

const gib = (bytes: number) =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export interface EncoderRunShape {
  B: number;
  T: number;
  /** Parameters the method trains (all of them for full fine-tuning). */
  trainableParams: number;
  /** Parameters of the checkpoint. */
  baseParams: number;
  memoryBudgetBytes?: number;
}

/** Bytes of float32 activations one layer keeps for its backward pass (an estimate). */
function layerActivationBytes(c: EncoderConfig, B: number, T: number): number {
  const N = B * T;
  // q, k, v, attention output, two norms' inputs and outputs, FFN input and its activation, scores.
  return 4 * (N * (8 * c.C + 2 * c.F) + B * c.NH * T * T * 2);
}

export function checkEncoderRunMemory(
  c: EncoderConfig,
  shape: EncoderRunShape,
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const { B, T } = shape;
  const tensors: [string, number, string][] = [
    ['the word-embedding table', c.V * c.C * 4, 'choose a smaller model'],
    [
      'the feed-forward activations',
      B * T * Math.max(c.F, 3 * c.C) * 4,
      'lower the batch size or the sequence length',
    ],
    ['the attention scores', B * c.NH * T * T * 4, 'lower the batch size or the sequence length'],
  ];
  for (const [what, bytes, advice] of tensors)
    if (bytes > limit)
      throw new ModelTooLargeError(
        `This classification run does not fit this GPU: ${what} need ${gib(bytes)} in one buffer, and this GPU allows at most ${gib(limit)} per buffer. To fit, ${advice} (batch ${B} × ${T} tokens now).`,
      );
  const budget = shape.memoryBudgetBytes ?? defaultMemoryBudgetBytes;
  // Weights, plus gradient and two AdamW moments per trained parameter, plus every layer's activations.
  const estimate = 4 * shape.baseParams + 12 * shape.trainableParams + c.L * layerActivationBytes(c, B, T);
  if (estimate > budget)
    throw new ModelTooLargeError(
      `This classification run needs an estimated ${gib(estimate)} of GPU memory, more than its budget of ${gib(budget)}. Lower the batch size (${B}) or the sequence length (${T} tokens), choose a PEFT method instead of full fine-tuning, or raise the memory budget.`,
    );
}
