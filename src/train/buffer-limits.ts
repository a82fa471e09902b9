/**
 * Before a step is planned: does every tensor it needs fit in one GPU buffer binding? WebGPU caps
 * each buffer (maxStorageBufferBindingSize, maxBufferSize); the largest tensors are the logits
 * [B·T, V], the embedding table [V, C] and the feed-forward activations [B·T, F]. A run that cannot fit
 * fails here, before any allocation, with what to change. (The whole-run memory plan is the planner's.)
 */
import type { DecoderConfig } from './models/config';

export class ModelTooLargeError extends Error {
  override readonly name = 'ModelTooLargeError';
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export function checkBufferLimits(
  c: DecoderConfig,
  shape: { B: number; T: number },
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
): void {
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const N = shape.B * shape.T;
  const tensors: [string, number, string][] = [
    ['the logits', N * c.V * 4, 'lower the batch size or the sequence length'],
    [
      'the feed-forward activations',
      N * Math.max(c.F, 3 * c.C) * 4,
      'lower the batch size or the sequence length',
    ],
    ['the embedding table', c.V * c.C * 4, 'choose a smaller model'],
  ];
  for (const [what, bytes, advice] of tensors) {
    if (bytes > limit) {
      throw new ModelTooLargeError(
        `This run does not fit this GPU: ${what} need ${gib(bytes)} in one buffer, and this GPU allows at most ` +
          `${gib(limit)} per buffer. To fit, ${advice} (batch ${shape.B} × ${shape.T} tokens now).`,
      );
    }
  }
}
