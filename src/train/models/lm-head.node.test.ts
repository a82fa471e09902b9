/**
 * The chunked LM head (lm-head.ts): a step whose head and loss run chunk by chunk over a few rows at a
 * time gives the loss and every gradient of the step that runs them at once (the head's weight gradient
 * summed over chunks, so to f32 rounding), with soft-capped logits (Gemma 2) and tied or untied heads,
 * for full fine-tuning and LoRA; and the arena's peak falls by what the memory planner says it saves.
 * A step that keeps only each sequence's last logits (a generation's prefill) reads those rows of the
 * full logits.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { type TinyFamily, tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { FullFineTuning } from '../peft/full';
import { LoraAdaptation } from '../peft/lora';
import { stepOnce, twoRowBatch } from '../peft/testing/peft-node-test';
import { Ledger } from '../plan/ledger';
import type { MethodSettings } from '../plan/method-settings';
import { stepBuffers } from '../plan/step-tensors';
import type { DecoderConfig } from './config';
import { createDecoderModel } from './create-model';
import { DecoderStep } from './decoder-step';

/** The planner's bytes for the step's own buffers, with the head in chunks of R rows or whole. */
function plannedStepBytes(c: DecoderConfig, method: 'full' | 'lora', chunkRows?: number): number {
  const ledger = new Ledger();
  const settings: MethodSettings = method === 'full' ? { method } : { method, r: 4 };
  stepBuffers(
    c,
    settings,
    { B: 2, T: 7, prefix: 0, ...(chunkRows ? { lmHeadChunkRows: chunkRows } : {}) },
    true,
    false,
    ledger,
  );
  return ledger.total();
}

describe('the chunked LM head', () => {
  it.each<{ family: TinyFamily; method: 'full' | 'lora' }>([
    { family: 'llama', method: 'full' }, // untied head
    { family: 'gemma2', method: 'full' }, // tied, soft-capped logits
    { family: 'qwen2', method: 'lora' }, // tied, frozen head
    { family: 'gpt2', method: 'full' },
  ])('matches the whole-batch head: $family $method', async ({ family, method }) => {
    const runtime = await testRuntime();
    const model = await createDecoderModel(
      runtime,
      await openCheckpoint(filesFromMemory(tinyModelFiles({ family }))),
    );
    const adaptation =
      method === 'full'
        ? new FullFineTuning(runtime, model)
        : new LoraAdaptation(runtime, model, {
            r: 4,
            alpha: 8,
            dropout: 0,
            targetModules: 'all-linear',
            seed: 1,
          });
    const whole = await stepOnce(runtime, model, adaptation);
    // 14 rows in chunks of 4: three full chunks and a short last one.
    const chunked = await stepOnce(runtime, model, adaptation, { lmHeadChunkRows: 4 });
    expect(Math.abs(chunked.loss - whole.loss) / whole.loss).toBeLessThan(1e-6);
    expect(chunked.grads.size).toBe(whole.grads.size);
    for (const [name, want] of whole.grads) {
      const got = chunked.grads.get(name) as Float32Array;
      let scale = 0;
      let error = 0;
      for (let i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i] as number));
        error = Math.max(error, Math.abs((got[i] as number) - (want[i] as number)));
      }
      // (LoRA's A starts with a zero gradient, B being zero: there both must be exactly 0.)
      expect(scale === 0 ? error : error / scale, name).toBeLessThan(1e-5);
    }
    // The logits shrink from [14, V] to [4, V], less the chunk's input and its gradient [4, C]: the
    // measured saving is the planned one, to within the few per-dispatch uniforms the chunks add.
    const planned = plannedStepBytes(model.config, method) - plannedStepBytes(model.config, method, 4);
    const measured = whole.peak - chunked.peak;
    expect(planned).toBeGreaterThan(0);
    expect(Math.abs(measured - planned) / planned).toBeLessThan(0.1);
  });
});

describe('the logits of the last rows only', () => {
  it("equal each sequence's last row of the full logits, soft-capped as they are", async () => {
    const runtime = await testRuntime();
    const files = tinyModelFiles({ family: 'gemma2' });
    const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(files)));
    const plan = (keepLogits: true | 'last') =>
      DecoderStep.plan(runtime, model, { B: 2, T: 7 }, { keepLogits });
    const [full, last] = [await plan(true), await plan('last')];
    full.run(twoRowBatch);
    last.run(twoRowBatch);
    const V = model.config.V;
    const [all, got] = [await full.readLogits(), await last.readLogits()];
    expect(got).toHaveLength(2 * V);
    expect(Array.from(got.subarray(0, V))).toEqual(Array.from(all.subarray(6 * V, 7 * V)));
    expect(Array.from(got.subarray(V))).toEqual(Array.from(all.subarray(13 * V, 14 * V)));
  });
});
