/**
 * `whetstone train --method ia3` and `eval --adapter` as a user runs them, on a tiny model written to
 * disk: the IA3 adapter is written in PEFT's format with PEFT's default targets, and evaluating it gives
 * the trainer's own validation loss; `merge` folds the vectors into the weights with the same loss.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { safetensorsToTensors } from '../train/peft/format/tensor-files';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  const run = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`whetstone ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  return run.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'whetstone-ia3-'));
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

describe('whetstone train --method ia3', () => {
  it('writes a PEFT IA3 adapter that eval --adapter scores at the trainer’s validation loss', () => {
    const out = join(dir, 'ia3');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--validation',
      validation,
      '--method',
      'ia3',
      '--out',
      out,
      '--lr',
      '0.1',
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
    expect(lines.at(-1)).toMatchObject({ done: true, method: 'ia3', steps: 3 });
    const trainedEval = lines.find((l) => 'eval_loss' in l && 'step' in l)?.eval_loss as number;
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({
      peft_type: 'IA3',
      target_modules: ['down_proj', 'k_proj', 'v_proj'],
      feedforward_modules: ['down_proj'],
    });

    const adapted = JSON.parse(
      whetstone('eval', '--model', model, '--adapter', out, '--data', validation, '--json'),
    );
    expect(Math.abs(adapted.loss - trainedEval)).toBeLessThan(1e-4 * trainedEval);
    // Training moved the vectors off their starting ones, so the adapter is not the base model.
    const tensors = safetensorsToTensors('ia3', readFileSync(join(out, 'adapter_model.safetensors')));
    expect(tensors.get('base_model.model.model.layers.0.mlp.down_proj.ia3_l')?.shape).toEqual([1, 48]);
    const moved = [...tensors.values()].flatMap((t) => [...t.data]).filter((v) => Math.abs(v - 1) > 1e-3);
    expect(moved.length).toBeGreaterThan(0);

    // Merged as PEFT merges IA3 (down_proj's input columns, k/v output rows), it scores the same loss.
    const merged = join(dir, 'merged');
    expect(whetstone('merge', '--model', model, '--adapter', out, '--out', merged)).toMatch(
      /merged \d+ ia3 layers/,
    );
    const mergedEval = JSON.parse(whetstone('eval', '--model', merged, '--data', validation, '--json'));
    expect(Math.abs(mergedEval.loss - adapted.loss)).toBeLessThan(1e-4 * adapted.loss);
    // Several CLI runs, each starting Dawn and compiling its pipelines; slow on shared CPUs.
  }, 300_000);
});
