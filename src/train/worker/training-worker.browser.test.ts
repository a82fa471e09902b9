/**
 * The real training worker in Chromium: SFT and LoRA runs started together on the tiny model advance
 * side by side on the worker's one GPU device, stream finite metrics, and hand back their results
 * (a Hugging Face folder and a PEFT adapter folder). The model is stored in BF16, as hub models are, so
 * the LoRA run trains on frozen matrices kept in half precision while SFT loads them f32.
 */
import { describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { defaultTrainConfig } from '../train-config';
import type { WorkerEvent } from './protocol';
import type { RunSpec } from './run-spec';
import { workerTrainer } from './training-client';

const modelFiles = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama', weightDtype: 'BF16' })).map(([name, value]) => [
    name,
    typeof value === 'string' ? new TextEncoder().encode(value) : value,
  ]),
);

const base: Omit<RunSpec, 'method'> = {
  modelFiles,
  modelName: 'tiny-llama',
  train: { ...defaultTrainConfig, steps: 3, batchSize: 2, seqLen: 32, lr: 1e-2 },
  trainTexts: ['the quick brown fox', 'jumps over the lazy dog', 'again and again'],
  validationTexts: ['the lazy dog'],
};

describe('the training worker', () => {
  it('runs SFT and LoRA side by side and returns their results', async () => {
    const trainer = workerTrainer(
      new Worker(new URL('./training-worker.ts', import.meta.url), { type: 'module' }),
    );
    const events: WorkerEvent[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      let count = 0;
      trainer.onEvent((event) => {
        events.push(event);
        if (event.kind === 'error') reject(new Error(`${event.name}: ${event.message}`));
        if (event.kind === 'run-finished' && ++count === 2) resolve();
      });
    });
    expect((await trainer.probe()).vendor).toBe((await navigator.gpu.requestAdapter())?.info.vendor);
    const sft = await trainer.startRun('sft', { ...base, method: { method: 'full' } });
    const lora = await trainer.startRun('lora', {
      ...base,
      method: { method: 'lora', r: 4, alpha: 8, dropout: 0 },
    });
    expect(lora.trainableParams).toBeLessThan(sft.trainableParams);
    await finished;
    trainer.dispose();

    const progress = events.filter((e) => e.kind === 'progress');
    expect(progress).toHaveLength(6);
    // Fair turns: both runs have stepped before either takes its last step.
    const firstLast = progress.findIndex((e) => e.kind === 'progress' && e.progress.step === 3);
    expect(new Set(progress.slice(0, firstLast).map((e) => e.kind === 'progress' && e.runId))).toEqual(
      new Set(['sft', 'lora']),
    );
    for (const e of progress)
      if (e.kind === 'progress')
        expect(Number.isFinite(e.progress.loss) && e.progress.gpuBytes > 0).toBe(true);
    const results = Object.fromEntries(
      events.flatMap((e) => (e.kind === 'run-finished' ? [[e.runId, Object.keys(e.files).sort()]] : [])),
    );
    expect(results.lora).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(results.sft).toEqual(
      expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']),
    );
    expect(events.filter((e) => e.kind === 'eval')).toHaveLength(2);
  });
});
