/**
 * `whetstone train --method adapter` and `eval --adapter` as a user runs them, on a tiny model written
 * to disk: the bottleneck adapter is written in Whetstone's own format with the requested reduction
 * factor, and evaluating it gives the trainer's own validation loss.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { safetensorsToTensors } from '../train/peft/format/tensor-files';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function spawn(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function whetstone(...args: string[]) {
  const run = spawn(...args);
  if (run.status !== 0) throw new Error(`whetstone ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-bottleneck-'));
const model = join(dir, 'model');
const data = join(dir, 'train.jsonl');
const validation = join(dir, 'validation.jsonl');

beforeAll(() => {
  execFileSync(process.execPath, [
    bin,
    'make-tiny-model',
    '--family',
    'llama',
    '--out',
    model,
    '--seed',
    '3',
  ]);
  const texts = ['Hello, world!', 'Whetstone trains in the browser.', 'ok'];
  writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
  writeFileSync(validation, JSON.stringify({ text: 'Hello, browser!' }));
});

describe('whetstone train --method adapter', () => {
  it('writes a bottleneck adapter that eval --adapter scores at the trainer’s validation loss', () => {
    const out = join(dir, 'adapter');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--validation',
      validation,
      '--method',
      'adapter',
      '--reduction-factor',
      '4',
      '--out',
      out,
      '--lr',
      '0.05',
      '--steps',
      '3',
      '--batch-size',
      '2',
      '--seq-len',
      '64',
      '--json',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // Two layers, two positions, each down [8, 32] + [8] and up [32, 8] + [32].
    expect(lines.at(-1)).toMatchObject({
      done: true,
      method: 'adapter',
      steps: 3,
      trainable_params: 4 * 552,
    });
    const trainedEval = lines.find((l) => 'eval_loss' in l && 'step' in l)?.eval_loss as number;
    expect(readdirSync(out).sort()).toEqual([
      'whetstone_adapter.safetensors',
      'whetstone_adapter_config.json',
    ]);
    expect(JSON.parse(readFileSync(join(out, 'whetstone_adapter_config.json'), 'utf8'))).toMatchObject({
      adapter_type: 'bottleneck',
      reduction_factor: 4,
      bottleneck_size: 8,
      non_linearity: 'relu',
      positions: ['attention', 'ffn'],
      hidden_size: 32,
      num_layers: 2,
      base_model_name_or_path: model,
    });
    const tensors = safetensorsToTensors(
      'whetstone_adapter.safetensors',
      readFileSync(join(out, 'whetstone_adapter.safetensors')),
    );
    expect(tensors.get('adapters.layers.1.ffn.up.weight')?.shape).toEqual([32, 8]);
    // Trained: the up projections have left zero.
    expect(tensors.get('adapters.layers.1.ffn.up.weight')?.data.some((v) => v !== 0)).toBe(true);

    const adapted = JSON.parse(
      whetstone('eval', '--model', model, '--adapter', out, '--data', validation, '--json'),
    );
    expect(Math.abs(adapted.loss - trainedEval)).toBeLessThan(1e-4 * trainedEval);
    const base = JSON.parse(whetstone('eval', '--model', model, '--data', validation, '--json'));
    expect(Math.abs(base.loss - trainedEval)).toBeGreaterThan(1e-3);
  });

  it('refuses a reduction factor that leaves no bottleneck, as a usage error', () => {
    const run = spawn(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--method',
      'adapter',
      '--reduction-factor',
      '64',
      '--out',
      join(dir, 'x'),
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--reduction-factor 64 is not valid/);
  });
});
