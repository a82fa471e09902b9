/**
 * Row limits. A sliding window is no limit: its layers mask keys past the window however long the row
 * (the attention and whole-model reference tests check the values), so `whetstone generate`, `eval`
 * and `train` run rows past it. GPT-2's learned positions are one, refused by name before anything is
 * allocated.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnWhetstone } from '../../cli/testing/cli-method-test';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { createDecoderModel } from './create-model';
import { DecoderStep } from './decoder-step';

describe('row limits', () => {
  it('refuses a GPT-2 row past its learned positions by name', async () => {
    const runtime = await testRuntime();
    const gpt2 = tinyModelFiles({ family: 'gpt2', seed: 2 });
    const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(gpt2)));
    await expect(DecoderStep.plan(runtime, model, { B: 1, T: 65 })).rejects.toThrow(
      /GPT2LMHeadModel has 64 learned positions; this step holds 65 tokens per row/,
    );
  });

  it('lets whetstone generate, eval and train run a sliding-window model on rows past its window', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'whetstone-window-')), 'model');
    mkdirSync(dir);
    const files = tinyModelFiles({ family: 'mistral', slidingWindow: 8, seed: 2 });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const generate = spawnWhetstone('generate', '--model', dir, '--prompt', 'Hello', '--max-new-tokens', '9');
    expect(generate.stderr).toBe('');
    expect(generate.status).toBe(0);
    const data = join(dir, 'valid.jsonl');
    writeFileSync(data, '{"text": "a row of more than eight bytes"}\n');
    const evaluate = spawnWhetstone('eval', '--model', dir, '--data', data, '--seq-len', '24', '--json');
    expect(evaluate.status).toBe(0);
    expect(JSON.parse(evaluate.stdout).tokens).toBe(23);
    const out = join(dir, 'out');
    const train = spawnWhetstone(
      'train',
      ...[
        '--model',
        dir,
        '--data',
        data,
        '--method',
        'lora',
        '--out',
        out,
        '--seq-len',
        '24',
        '--steps',
        '1',
      ],
    );
    expect(train.status).toBe(0);
  });
});
