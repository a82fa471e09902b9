/**
 * `whetstone train --method dora` as a user runs it, on a tiny model written to disk (with LoRA dropout,
 * so the dropout form trains): the adapter folder is PEFT's DoRA layout ("use_dora": true, a
 * lora_magnitude_vector [out] beside every lora_A and lora_B), `eval --adapter` on it gives the
 * trainer's own validation loss, and `merge` folds the magnitudes in (PEFT's DoRA merge) so the merged
 * model scores that same loss with no adapter.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { safetensorsToTensors } from '../train/peft/format/tensor-files';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function run(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function whetstone(...args: string[]) {
  const result = run(...args);
  if (result.status !== 0)
    throw new Error(`whetstone ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-dora-'));
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
    '4',
  ]);
  const texts = ['Hello, world!', 'Whetstone trains in the browser.', 'ok'];
  writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
  writeFileSync(validation, JSON.stringify({ text: 'Hello, browser!' }));
});

describe('whetstone train --method dora', () => {
  it('writes a PEFT DoRA adapter that eval --adapter scores as the trainer did', () => {
    const out = join(dir, 'dora');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--validation',
      validation,
      '--method',
      'dora',
      '--out',
      out,
      '--lora-r',
      '4',
      '--lora-alpha',
      '8',
      '--lora-dropout',
      '0.1',
      '--target-modules',
      'q_proj,v_proj,down_proj',
      '--lr',
      '0.02',
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
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'dora', steps: 3 });
    const trainedEval = lines.find((l) => 'eval_loss' in l && 'step' in l)?.eval_loss as number;

    const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      use_dora: true,
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.1,
    });
    const tensors = safetensorsToTensors(
      'adapter_model.safetensors',
      readFileSync(join(out, 'adapter_model.safetensors')),
    );
    const prefix = 'base_model.model.model.layers.1.';
    expect(tensors.get(`${prefix}self_attn.v_proj.lora_magnitude_vector`)?.shape).toEqual([16]);
    expect(tensors.get(`${prefix}mlp.down_proj.lora_magnitude_vector`)?.shape).toEqual([32]);
    const keys = [...tensors.keys()];
    expect(keys.filter((k) => k.endsWith('.lora_magnitude_vector'))).toHaveLength(6);
    expect(keys).toHaveLength(18);

    const adapted = JSON.parse(
      whetstone('eval', '--model', model, '--adapter', out, '--data', validation, '--json'),
    );
    expect(Math.abs(adapted.loss - trainedEval)).toBeLessThan(1e-4 * trainedEval);
    const base = JSON.parse(whetstone('eval', '--model', model, '--data', validation, '--json'));
    expect(Math.abs(base.loss - trainedEval)).toBeGreaterThan(1e-3);

    const merged = join(dir, 'merged');
    expect(whetstone('merge', '--model', model, '--adapter', out, '--out', merged)).toMatch(
      /merged 6 dora layers/,
    );
    const mergedEval = JSON.parse(whetstone('eval', '--model', merged, '--data', validation, '--json'));
    expect(Math.abs(mergedEval.loss - adapted.loss)).toBeLessThan(1e-4 * adapted.loss);
    // Several CLI runs, each starting Dawn and compiling its pipelines; slow on shared CPUs.
  }, 300_000);
});
