import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** The same, without blocking this process's event loop (a test server here must keep answering). */
function whetstoneAsync(env: Record<string, string>, ...args: string[]) {
  const { LD_LIBRARY_PATH: _a, VK_ICD_FILENAMES: _b, ...rest } = process.env;
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...rest, ...env }, timeout: 300_000 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
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

  it('takes a hub repo id for --model: downloads once into the cache, then runs from it', async () => {
    const files = tinyModelFiles({ family: 'gpt2', seed: 3 });
    const bytes = (name: string) =>
      typeof files[name] === 'string'
        ? new TextEncoder().encode(files[name] as string)
        : (files[name] as Uint8Array);
    const fileGets: string[] = [];
    // The two endpoints @huggingface/hub calls: the tree listing and resolve (with Range for sizes).
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path === '/api/models/test/tiny-gpt2/tree/main') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify(
            Object.keys(files).map((name) => ({
              type: 'file',
              oid: name,
              size: bytes(name).byteLength,
              path: name,
            })),
          ),
        );
        return;
      }
      const file = /^\/test\/tiny-gpt2\/resolve\/main\/(.+)$/.exec(path)?.[1];
      if (!file || !(file in files)) {
        res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' });
        res.end('{}');
        return;
      }
      const body = bytes(file);
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (range) {
        const [start, end] = [Number(range[1]), Math.min(Number(range[2]), body.byteLength - 1)];
        res.writeHead(206, {
          'Content-Range': `bytes ${start}-${end}/${body.byteLength}`,
          ETag: `"${file}"`,
        });
        res.end(body.subarray(start, end + 1));
        return;
      }
      fileGets.push(file);
      res.writeHead(200, { 'Content-Length': body.byteLength, ETag: `"${file}"` });
      res.end(body);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const env = {
      HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      WHETSTONE_CACHE: mkdtempSync(join(tmpdir(), 'whetstone-cache-')),
    };
    try {
      const args = [
        'generate',
        '--model',
        'test/tiny-gpt2',
        '--prompt',
        'Hi',
        '--max-new-tokens',
        '3',
        '--temperature',
        '0',
        '--json',
      ];
      const first = await whetstoneAsync(env, ...args);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/downloaded model\.safetensors/);
      expect(fileGets).toContain('model.safetensors');
      fileGets.length = 0;
      const second = await whetstoneAsync(env, ...args);
      expect(second.stdout).toBe(first.stdout);
      expect(fileGets).toEqual([]);
      const missing = await whetstoneAsync(env, 'generate', '--model', 'test/absent', '--prompt', 'Hi');
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/HubDownloadError/);
    } finally {
      server.close();
    }
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
    const phi3 = writeModel('llama', {
      'config.json': JSON.stringify({ architectures: ['Phi3ForCausalLM'] }),
    });
    expect(whetstone('generate', '--model', phi3, '--prompt', 'x')).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(
        /Phi3ForCausalLM.*Supported architectures: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, SmolLM3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, GPT2LMHeadModel/,
      ),
    });
    mkdirSync(join(dir, 'empty'));
    expect(whetstone('generate', '--model', join(dir, 'empty'), '--prompt', 'x').stderr).toMatch(
      /has no config\.json/,
    );
  });
});
