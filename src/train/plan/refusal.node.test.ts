/**
 * A run that does not fit is refused before it starts, with what to change: by the worker's engine and
 * the CLI before the model's weights reach the GPU, and by the Trainer before it plans its step. And
 * `whetstone plan --json` reports the same plan the library computes, from a config file alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferArena } from '../../gpu/arena';
import type { Runtime } from '../../gpu/runtime';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { ModelTooLargeError } from '../buffer-limits';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { parseModelConfig } from '../models/config';
import { createDecoderModel } from '../models/create-model';
import { LoraAdaptation } from '../peft/lora';
import { defaultTrainConfig } from '../train-config';
import { Trainer } from '../trainer';
import { openRun } from '../worker/run-engine';
import type { RunSpec } from '../worker/run-spec';
import { MemoryPlanError } from './fit';
import { planMemory } from './memory-plan';

const tiny = tinyModelFiles({ family: 'llama' });
const bytes = (v: Uint8Array | string) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
const texts = ['the quick brown fox', 'jumps over the lazy dog'];

async function freshRuntime(): Promise<Runtime> {
  const base = await testRuntime();
  return { ...base, arena: new BufferArena(base.device) };
}

describe('refusing a run that does not fit', () => {
  it('the worker engine refuses before uploading a single weight, and says what to change', async () => {
    const runtime = await freshRuntime();
    const spec: RunSpec = {
      modelFiles: Object.fromEntries(Object.entries(tiny).map(([k, v]) => [k, bytes(v)])),
      modelName: 'tiny-llama',
      method: { method: 'full' },
      // The tiny model's weights alone are ~90 KB.
      train: { ...defaultTrainConfig, steps: 1, batchSize: 2, seqLen: 32, memoryBudgetBytes: 50_000 },
      trainTexts: texts,
      validationTexts: [],
    };
    const refused = await openRun(runtime, spec, new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(MemoryPlanError);
    expect(refused).toBeInstanceOf(ModelTooLargeError);
    expect((refused as Error).message).toMatch(
      /This full run does not fit: it needs about .* over the 48\.8 KiB budget/,
    );
    expect((refused as Error).message).toMatch(/train LoRA instead of full fine-tuning/);
    // Nothing of the model reached the GPU.
    expect(runtime.arena.stats()).toMatchObject({ liveBytes: 0, peakLiveBytes: 0 });
  });

  it('the Trainer refuses before planning its step', async () => {
    const runtime = await freshRuntime();
    const checkpoint = await openCheckpoint(filesFromMemory(tiny));
    const model = await createDecoderModel(runtime, checkpoint);
    const adaptation = new LoraAdaptation(runtime, model, { r: 4, alpha: 4 });
    const loaded = runtime.arena.stats().liveBytes;
    const examples = texts.map((t) => ({ ids: [...new TextEncoder().encode(t)] }));
    const config = { ...defaultTrainConfig, steps: 1, batchSize: 2, seqLen: 32 };
    const plan = planMemory(checkpoint.config, { method: 'lora', r: 4 }, { batchSize: 2, seqLen: 24 });
    // Just under what the plan needs: refused; at the plan's total: accepted.
    expect(
      () =>
        new Trainer(
          runtime,
          model,
          adaptation,
          { ...config, memoryBudgetBytes: plan.totalBytes - 1 },
          examples,
        ),
    ).toThrow(MemoryPlanError);
    expect(runtime.arena.stats().liveBytes).toBe(loaded);
    expect(
      () =>
        new Trainer(runtime, model, adaptation, { ...config, memoryBudgetBytes: plan.totalBytes }, examples),
    ).not.toThrow();
  });
});

const bin = new URL('../../../bin/whetstone.mjs', import.meta.url).pathname;

function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

describe('whetstone plan and train --memory-budget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-plan-'));
  const model = join(dir, 'model');
  mkdirSync(model);
  for (const [name, content] of Object.entries(tiny)) writeFileSync(join(model, name), content);

  it('plan --json gives the library’s plan from config.json alone', () => {
    const run = whetstone(
      'plan',
      '--model',
      join(model, 'config.json'),
      '--method',
      'lora',
      '--lora-r',
      '4',
      '--batch-size',
      '2',
      '--seq-len',
      '32',
      '--grad-checkpointing',
      '--json',
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    const config = parseModelConfig(JSON.parse(tiny['config.json'] as string));
    const plan = planMemory(
      config,
      { method: 'lora', r: 4, dropout: 0 },
      {
        batchSize: 2,
        seqLen: 32,
        gradAccum: 1,
        optimizer: 'adamw',
        gradientCheckpointing: true,
        evaluation: false,
      },
    );
    expect(out).toMatchObject({
      estimate: true,
      half_precision_weights: false,
      total_bytes: plan.totalBytes,
      components: plan.components,
      largest_buffer: plan.largestBuffer,
      fits: true,
    });
  });

  it('plan says a BF16 checkpoint’s frozen matrices stay 16-bit, and counts them so', () => {
    const bf16 = join(dir, 'bf16-config.json');
    const json = { ...JSON.parse(tiny['config.json'] as string), torch_dtype: 'bfloat16' };
    writeFileSync(bf16, JSON.stringify(json));
    const run = whetstone('plan', '--model', bf16, '--method', 'lora', '--lora-r', '4', '--json');
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.half_precision_weights).toBe(true);
    const f32 = planMemory(parseModelConfig(JSON.parse(tiny['config.json'] as string)), out.method, out.step);
    expect(out.components.weights).toBeLessThan(0.6 * f32.components.weights);
    const text = whetstone('plan', '--model', bf16, '--method', 'lora', '--lora-r', '4');
    expect(text.stdout).toContain('the frozen matrices stay 16-bit');
  });

  it('train refuses a run over --memory-budget and writes nothing', () => {
    const data = join(dir, 'train.jsonl');
    writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
    const out = join(dir, 'out');
    const run = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--method',
      'full',
      '--steps',
      '1',
      '--memory-budget',
      '50KB',
      '--out',
      out,
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /ModelTooLargeError: This full run does not fit: .* over the 48\.8 KiB budget/,
    );
    expect(run.stderr).toMatch(/To fit, .*train LoRA instead of full fine-tuning/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a size it cannot read', () => {
    const run = whetstone('plan', '--model', model, '--memory-budget', 'lots');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--memory-budget lots is not a size; write e\.g\. 8GiB/);
  });
});
