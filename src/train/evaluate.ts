/**
 * Mean next-token loss over a set of batches, as HF computes it over a whole file: the sum of every
 * label token's cross-entropy divided by the number of label tokens (not a mean of batch means).
 */
import type { Runtime } from '../gpu/runtime';
import { type DecoderModel, DecoderStep, type TokenBatch } from './models/decoder-step';
import type { Adaptation } from './peft/adaptation';

export interface EvalResult {
  loss: number;
  tokens: number;
  perplexity: number;
}

export async function evaluateLoss(
  runtime: Runtime,
  model: DecoderModel,
  batches: TokenBatch[],
  adaptation?: Adaptation,
): Promise<EvalResult> {
  const steps = new Map<string, DecoderStep>();
  let sum = 0;
  let tokens = 0;
  for (const batch of batches) {
    const shape = { B: batch.ids.length, T: batch.ids[0]?.length ?? 0 };
    const key = `${shape.B}x${shape.T}`;
    let step = steps.get(key);
    if (!step) {
      step = await DecoderStep.plan(runtime, model, shape, adaptation ? { adaptation } : {});
      steps.set(key, step);
    }
    step.run(batch);
    const result = await step.loss();
    sum += result.loss * result.tokens;
    tokens += result.tokens;
  }
  const loss = tokens === 0 ? 0 : sum / tokens;
  return { loss, tokens, perplexity: Math.exp(loss) };
}
