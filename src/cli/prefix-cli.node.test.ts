/**
 * `whetstone train --method prefix`, `eval --adapter` and `generate --adapter` as a user runs them, on a
 * tiny model written to disk (with --prefix-projection and --grad-checkpointing on): the prefix-tuning
 * adapter is written in PEFT's format (prompt_embeddings [num_virtual_tokens, num_layers·2·token_dim],
 * the MLP's output), evaluating it gives the trainer's own validation loss, and generation runs with it.
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

const dir = mkdtempSync(join(tmpdir(), 'whetstone-prefix-'));
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

describe('whetstone train --method prefix', () => {
  it('writes a PEFT prefix-tuning adapter that eval and generate load', () => {
    const out = join(dir, 'prefix');
    const lines = whetstone(
      'train',
      '--model',
      model,
      '--data',
      data,
      '--validation',
      validation,
      '--method',
      'prefix',
      '--num-virtual-tokens',
      '6',
      '--prefix-projection',
      '--encoder-hidden-size',
      '24',
      '--grad-checkpointing',
      '--out',
      out,
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
    // The MLP trains: embedding [6, 16] (token_dim = 2 KV heads × 8), 16 → 24 → 2 layers·2·16.
    const trainable = 6 * 16 + (24 * 16 + 24) + (64 * 24 + 64);
    expect(lines.at(-1)).toMatchObject({
      done: true,
      method: 'prefix',
      steps: 3,
      trainable_params: trainable,
    });
    // PEFT's example rate is the default.
    expect(lines[0]).toMatchObject({ step: 1, lr: 1e-2 });
    const trainedEval = lines.find((l) => 'eval_loss' in l && 'step' in l)?.eval_loss as number;
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 6,
      token_dim: 16,
      num_attention_heads: 2,
      num_layers: 2,
      num_transformer_submodules: 1,
      encoder_hidden_size: 24,
      prefix_projection: true,
    });
    const tensors = safetensorsToTensors('prefix', readFileSync(join(out, 'adapter_model.safetensors')));
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    expect(tensors.get('prompt_embeddings')?.shape).toEqual([6, 2 * 2 * 16]);

    const adapted = JSON.parse(
      whetstone('eval', '--model', model, '--adapter', out, '--data', validation, '--json'),
    );
    expect(Math.abs(adapted.loss - trainedEval)).toBeLessThan(1e-4 * trainedEval);

    const generated = JSON.parse(
      whetstone(
        'generate',
        '--model',
        model,
        '--adapter',
        out,
        '--prompt',
        'Hello',
        '--max-new-tokens',
        '4',
        '--temperature',
        '0',
        '--json',
      ),
    );
    expect(generated.token_ids).toHaveLength(4);
  });
});
