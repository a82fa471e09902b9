import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../gpu/device/acquire-device';
import { type TinyFamily, tinyModelFiles } from '../train/fixtures/tiny-models';
import { openCheckpoint } from '../train/io/checkpoint';
import { filesFromMemory } from '../train/io/model-files';
import { lossOf, type Params } from '../train/models/reference/tfjs-causal-lm';

const bin = new URL('../../bin/whetstone.mjs', import.meta.url).pathname;

/** Runs the CLI as a user would: a fresh process with none of our GPU environment variables set. */
function whetstone(...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...env } = process.env;
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

function writeModel(family: TinyFamily, overrides: Record<string, Uint8Array | string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `whetstone-${family}-`));
  for (const [name, content] of Object.entries({ ...tinyModelFiles({ family, seed: 3 }), ...overrides })) {
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('whetstone CLI', () => {
  it('info --json prints only the adapter report, with no environment variables set', async () => {
    const run = whetstone('info', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    const gpu = await acquireDevice();
    expect(report.vendor).toBe(gpu.report.vendor);
    expect(report.limits.maxStorageBufferBindingSize).toBe(gpu.device.limits.maxStorageBufferBindingSize);
    gpu.destroy();
  });

  it('generate --json: greedy ids that decode to the printed text, the same as streamed text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'whetstone-made-'));
    expect(whetstone('make-tiny-model', '--family', 'llama', '--out', dir, '--seed', '3').status).toBe(0);
    const json = whetstone(
      'generate',
      '--model',
      dir,
      '--prompt',
      'Hello',
      '--max-new-tokens',
      '6',
      '--temperature',
      '0',
      '--json',
    );
    expect(json.stderr).toBe('');
    const result = JSON.parse(json.stdout);
    expect(result.token_ids).toHaveLength(6);
    const plain = whetstone(
      'generate',
      '--model',
      dir,
      '--prompt',
      'Hello',
      '--max-new-tokens',
      '6',
      '--temperature',
      '0',
    );
    expect(plain.stdout).toBe(`${result.text}\n`);
    const sampled = (seed: string) =>
      JSON.parse(
        whetstone(
          'generate',
          '--model',
          dir,
          '--prompt',
          'Hello',
          '--max-new-tokens',
          '6',
          '--temperature',
          '1.5',
          '--seed',
          seed,
          '--json',
        ).stdout,
      );
    expect(sampled('4')).toEqual(sampled('4'));
  });

  it('eval --json gives the reference loss over every label token of the file', async () => {
    const dir = writeModel('gpt2');
    const texts = ['Hello there', 'A longer line of text, to pad the other one.', 'ok'];
    const data = join(dir, 'eval.jsonl');
    writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join('\n'));
    const run = whetstone('eval', '--model', dir, '--data', data, '--batch-size', '2', '--json');
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);

    const checkpoint = await openCheckpoint(filesFromMemory(tinyModelFiles({ family: 'gpt2', seed: 3 })));
    const params: Params = new Map();
    for (const [name, w] of checkpoint.weights)
      params.set(name, tf.tensor(await checkpoint.read(name), w.shape));
    let sum = 0;
    let tokens = 0;
    for (const text of texts) {
      const ids = [...new TextEncoder().encode(text), 257]; // byte-level ids, then EOS
      const loss = (
        await lossOf(checkpoint.config, params, {
          ids: [ids],
          attentionMask: [ids.map(() => 1)],
          labels: [ids],
        }).data()
      )[0] as number;
      sum += loss * (ids.length - 1);
      tokens += ids.length - 1;
    }
    expect(result.tokens).toBe(tokens);
    expect(Math.abs(result.loss - sum / tokens) / (sum / tokens)).toBeLessThan(1e-4);
    expect(result.perplexity).toBeCloseTo(Math.exp(result.loss), 6);
  });

  it('says what is wrong: usage, a malformed row, an unsupported architecture', () => {
    expect(whetstone('generate', '--prompt', 'x')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--model DIR is required/),
    });
    expect(whetstone('frobnicate')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown command "frobnicate"/),
    });
    const dir = writeModel('llama');
    const data = join(dir, 'bad.jsonl');
    writeFileSync(data, '{"text": "fine"}\n{"text": oops}\n');
    expect(whetstone('eval', '--model', dir, '--data', data, '--json')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/bad\.jsonl, line 2: not valid JSON/),
    });
    const mistral = writeModel('llama', {
      'config.json': JSON.stringify({ architectures: ['MistralForCausalLM'] }),
    });
    expect(whetstone('generate', '--model', mistral, '--prompt', 'x')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(
        /MistralForCausalLM.*Supported architectures: LlamaForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel/,
      ),
    });
    mkdirSync(join(dir, 'empty'));
    expect(whetstone('generate', '--model', join(dir, 'empty'), '--prompt', 'x').stderr).toMatch(
      /has no config\.json/,
    );
  });
});
