/**
 * The studio's classification run is refused from the encoder memory plan before any weight reaches the
 * GPU: over its memory budget, opening it rejects with a MemoryPlanError (a ModelTooLargeError) that says
 * the figure is an estimate and what to change, and the shared arena holds no more bytes than before.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { builtInClassifierFiles, builtInClassifierName } from '../fixtures/tiny-encoders';
import { MemoryPlanError } from '../plan/fit';
import { defaultTrainConfig } from '../train-config';
import type { RunSpec } from '../worker/run-spec';
import { openClassifierRun } from './classifier-run';

const rows = Array.from({ length: 16 }, (_, i) => `${i % 2}\tThe ${i % 2 ? 'cat' : 'mat'} sat .`);

describe('a classification run that does not fit', () => {
  it('is refused from its memory plan before the weights are uploaded', async () => {
    const runtime = await testRuntime();
    const spec: RunSpec = {
      task: 'classification',
      modelFiles: builtInClassifierFiles(),
      modelName: builtInClassifierName,
      method: { method: 'full' },
      train: { ...defaultTrainConfig, batchSize: 8, seqLen: 16, memoryBudgetBytes: 200_000 },
      data: {
        file: { blob: new Blob([`label\ttext\n${rows.join('\n')}\n`]), fileName: 'rows.tsv' },
        validationFraction: 0.25,
      },
    };
    const before = runtime.arena.stats().liveBytes;
    const opening = openClassifierRun(runtime, spec, new AbortController().signal);
    await expect(opening).rejects.toBeInstanceOf(MemoryPlanError);
    await expect(opening).rejects.toThrow(
      /This full classification run \(batch 8 × \d+ tokens\) does not fit: it needs about .* \(an estimate\), over the 195\.3 KiB budget\. To fit, .*train LoRA instead of full fine-tuning/,
    );
    expect(runtime.arena.stats().liveBytes).toBe(before);
  });
});
