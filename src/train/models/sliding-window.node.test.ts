/**
 * Sliding-window models (Mistral) run rows up to the window, where the window changes nothing, and
 * refuse longer ones by name rather than run full attention where the model would not: a training step,
 * a generation's cache, and `whetstone generate`, `eval` and `train` (which says what to set).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnWhetstone } from '../../cli/testing/cli-method-test';
import { testRuntime } from '../../gpu/testing/test-runtime';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { Generator } from '../generate/generator';
import { openCheckpoint } from '../io/checkpoint';
import { filesFromMemory } from '../io/model-files';
import { FullFineTuning } from '../peft/full';
import { createDecoderModel } from './create-model';
import { DecoderStep } from './decoder-step';

const window = 8;
const files = tinyModelFiles({ family: 'mistral', slidingWindow: window, seed: 2 });
const refusal = /MistralForCausalLM attends within a sliding window of 8 tokens.*9 tokens per row/;

describe('a sliding-window model', () => {
  it('trains rows up to its window and refuses a longer row by name', async () => {
    const runtime = await testRuntime();
    const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(files)));
    const options = { adaptation: new FullFineTuning(runtime, model), backward: true };
    const step = await DecoderStep.plan(runtime, model, { B: 1, T: window }, options);
    step.run({
      ids: [[256, 1, 2, 3, 4, 5, 6, 7]],
      attentionMask: [Array(8).fill(1)],
      labels: [[256, 1, 2, 3, 4, 5, 6, 7]],
    });
    expect(Number.isFinite((await step.loss()).loss)).toBe(true);
    await expect(DecoderStep.plan(runtime, model, { B: 1, T: window + 1 }, options)).rejects.toThrow(refusal);
  });

  it('shares the refusal with learned positions: a GPT-2 row past them is refused by name', async () => {
    const runtime = await testRuntime();
    const gpt2 = tinyModelFiles({ family: 'gpt2', seed: 2 });
    const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(gpt2)));
    await expect(DecoderStep.plan(runtime, model, { B: 1, T: 65 })).rejects.toThrow(
      /GPT2LMHeadModel has 64 learned positions; this step holds 65 tokens per row/,
    );
  });

  it('generates within its window and refuses a generation that could pass it', async () => {
    const runtime = await testRuntime();
    const model = await createDecoderModel(runtime, await openCheckpoint(filesFromMemory(files)));
    expect(
      await new Generator(runtime, model, window).generate([256, 72, 105], { maxNewTokens: 5 }),
    ).toHaveLength(5);
    expect(() => new Generator(runtime, model, window + 1)).toThrow(
      /sliding window of 8 tokens.*a generation would hold 9 tokens per row/,
    );
  });

  it('whetstone generate, eval and train say so as usage errors, and train runs at the window', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'whetstone-window-')), 'model');
    mkdirSync(dir);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const generate = spawnWhetstone('generate', '--model', dir, '--prompt', 'Hi', '--max-new-tokens', '6');
    expect(generate.status).toBe(2);
    expect(generate.stderr).toMatch(
      /plus 6 new tokens pass 8 tokens: MistralForCausalLM attends within a sliding window/,
    );
    const data = join(dir, 'valid.jsonl');
    writeFileSync(data, '{"text": "hello"}\n');
    const evaluate = spawnWhetstone('eval', '--model', dir, '--data', data, '--seq-len', '16');
    expect(evaluate.status).toBe(2);
    expect(evaluate.stderr).toMatch(/--seq-len 16 passes 8 tokens: MistralForCausalLM attends/);
    writeFileSync(data, '{"text": "a row of more than eight bytes"}\n');
    const out = join(dir, 'out');
    const train = spawnWhetstone('train', '--model', dir, '--data', data, '--method', 'lora', '--out', out);
    expect(train.status).toBe(2);
    expect(train.stderr).toMatch(
      /Rows of \d+ tokens pass 8: MistralForCausalLM .* Set --seq-len 8 or less\./,
    );
    const fits = spawnWhetstone(
      'train',
      '--model',
      dir,
      '--data',
      data,
      '--method',
      'lora',
      '--out',
      out,
      '--seq-len',
      '8',
      '--steps',
      '1',
    );
    expect(fits.stderr).toMatch(/truncated/);
    expect(fits.status).toBe(0);
  });
});
