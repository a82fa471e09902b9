/**
 * The benchmark end to end on the tiny fixture, one warm-up and one timed step: both sides agree on the
 * logits and the losses, the probe sees exactly the dispatches Whetstone recorded, and every figure of
 * the report is filled; and the check has teeth: one adapter value out of place fails it. Node only:
 * tfjs-backend-webgpu is given Dawn's device here.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../gpu/testing/test-runtime';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromMemory } from '../train/io/model-files';
import { benchBatch, modelShapes } from './cases';
import { largestDifference, logitTolerance, runCase } from './run-case';
import { TfjsSide } from './tfjs-side';
import { WhetstoneSide } from './whetstone-side';

const tiny = modelShapes[0] as (typeof modelShapes)[number];

describe('benchmark case', () => {
  it.each(['lora-r8', 'ia3'] as const)('tiny fixture, %s: checked, then timed', async (method) => {
    const runtime = await testRuntime();
    const shape = { ...tiny, warmup: 1, steps: 1 };
    const checkpoint = await openCheckpoint(filesFromMemory(shape.files()));
    const result = await runCase(runtime, runtime.gpu, checkpoint, shape, method, {
      kernelTimes: runtime.gpu.optional.timestampQuery,
      log: () => {},
    });
    expect(result.status, result.check.failure).toBe('ok');
    expect(result.check.maxLogitDiff).toBeLessThan(1e-3);
    for (const side of [result.whetstone, result.tfjs]) {
      expect(side?.stepMs).toBeGreaterThan(0);
      expect(side?.dispatches).toBeGreaterThan(0);
      expect(side?.peakBytes).toBeGreaterThan(0);
      expect(side?.losses).toHaveLength(2);
    }
    expect(result.speedup).toBeGreaterThan(0);
  });

  it('the logits check notices one LoRA value out of place', async () => {
    const runtime = await testRuntime();
    const checkpoint = await openCheckpoint(filesFromMemory(tiny.files()));
    const whetstone = await WhetstoneSide.create(runtime, checkpoint, 'lora-r8', tiny);
    const start = structuredClone(whetstone.start);
    const first = [...start.lora.values()][0];
    if (!first) throw new Error('The LoRA case has no adapted layer.');
    first.b[0] = (first.b[0] as number) + 1;
    const tfjs = await TfjsSide.create(checkpoint, 'lora-r8', start, runtime.gpu);
    try {
      const batch = benchBatch(tiny.B, tiny.T, checkpoint.config.V);
      const { maxDiff, maxAbs } = largestDifference(await whetstone.logits(batch), await tfjs.logits(batch));
      expect(maxDiff).toBeGreaterThan(logitTolerance * Math.max(1, maxAbs));
    } finally {
      tfjs.release();
      whetstone.release();
    }
  });
});
