/**
 * Older BERT repos on the hub (google/bert_uncased_L-2_H-128_A-2, BERT-Tiny, and kin): vocab.txt and no
 * tokenizer.json or tokenizer_config.json, a config.json with no model_type or architectures, and
 * sometimes only pytorch_model.bin. Served by a local stand-in for the hub (node:http on 127.0.0.1), as
 * hub.cpu.test.ts does: the download takes vocab.txt, the tokenizer is built from it, the model type is
 * read from the repo id as transformers does, and pickle-only weights (pytorch_model.bin) are fetched.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairEncoderFor } from '../classify/classifier-folder';
import { tinyEncoderFiles } from '../fixtures/tiny-encoders';
import { tinyWordPiece } from '../fixtures/tiny-wordpiece';
import { openEncoderCheckpoint } from '../models/bert-checkpoint';
import {
  encoderArchitectureOf,
  modelNameOfSource,
  modelTypeFromName,
  parseEncoderConfig,
} from '../models/bert-config';
import { ModelConfigError } from '../models/errors';
import { downloadModel, HubDownloadError } from './hub';
import { nodeModelCache } from './node-model-cache';

const encoder = tinyEncoderFiles({ family: 'bert', withHead: false });
const { architectures: _, model_type: __, ...untypedConfig } = JSON.parse(encoder['config.json'] as string);
const vocab = tinyWordPiece().vocab;
const bytes = (text: string) => new TextEncoder().encode(text);
const bertTinyFiles: Record<string, Uint8Array> = {
  'config.json': bytes(JSON.stringify(untypedConfig)),
  'vocab.txt': bytes(`${vocab.join('\n')}\n`),
  'model.safetensors': encoder['model.safetensors'] as Uint8Array,
};
/** A torch.save file (its contents are tested in torch-weights.cpu.test.ts; here only fetched). */
const pickled = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'torch-legacy.bin')));
const repos: Record<string, Record<string, Uint8Array>> = {
  'google/bert_uncased_L-2_H-128_A-2': bertTinyFiles,
  'someone/tiny-encoder': bertTinyFiles,
  'google/pickled_bert': {
    'config.json': bertTinyFiles['config.json']!,
    'vocab.txt': bertTinyFiles['vocab.txt']!,
    'pytorch_model.bin': pickled,
    'tf_model.h5': new Uint8Array(32),
  },
  'google/tf_only_bert': {
    'config.json': bertTinyFiles['config.json']!,
    'vocab.txt': bertTinyFiles['vocab.txt']!,
    'tf_model.h5': new Uint8Array(32),
  },
};
const requests: string[] = [];
const server = createServer(answer);
let hubUrl = '';

/** The tree listing and resolve (with Range) endpoints @huggingface/hub calls. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  requests.push(`${req.method} ${path}${req.headers.range ? ' (range)' : ''}`);
  const tree = /^\/api\/models\/(.+)\/tree\/([^/]+)$/.exec(path);
  const resolve = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  const files = repos[(tree ?? resolve)?.[1] ?? ''];
  const file = resolve ? files?.[resolve[3]!] : undefined;
  if (tree && files) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify(
        Object.entries(files).map(([name, data]) => ({
          type: 'file',
          oid: name,
          size: data.byteLength,
          path: name,
        })),
      ),
    );
    return;
  }
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'application/json', 'X-Error-Code': 'EntryNotFound' });
    res.end(JSON.stringify({ error: 'Entry not found' }));
    return;
  }
  const headers = { ETag: `"etag-${resolve?.[3]}"`, 'Accept-Ranges': 'bytes' };
  if (req.headers.range) {
    res.writeHead(206, { ...headers, 'Content-Range': `bytes 0-0/${file.byteLength}` });
    res.end(file.subarray(0, 1));
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': file.byteLength });
  res.end(file);
}

let cacheRoot = '';
beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cacheRoot = await mkdtemp(join(tmpdir(), 'whetstone-hub-vocab-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(cacheRoot, { recursive: true, force: true });
});

describe('a BERT-Tiny-style hub repo', () => {
  it('downloads vocab.txt, builds its tokenizer, and reads it as BERT from the repo id', async () => {
    const cache = nodeModelCache({ root: cacheRoot });
    const files = await downloadModel('google/bert_uncased_L-2_H-128_A-2', { cache, hubUrl });
    expect(['vocab.txt', 'tokenizer.json', 'tokenizer_config.json'].map((f) => files.has(f))).toEqual([
      true,
      false,
      false,
    ]);
    const id = (token: string) => vocab.indexOf(token);
    expect((await pairEncoderFor(files)).encode('The dogs', 'a mat').ids).toEqual(
      ['[CLS]', 'the', 'dog', '##s', '[SEP]', 'a', 'mat', '[SEP]'].map(id),
    );
    const checkpoint = await openEncoderCheckpoint(files, { numLabels: 3 });
    expect([checkpoint.config.architecture, checkpoint.config.L, checkpoint.config.K]).toEqual([
      'BertModel',
      2,
      3,
    ]);

    const unnamed = await downloadModel('someone/tiny-encoder', { cache, hubUrl });
    await expect(openEncoderCheckpoint(unnamed)).rejects.toThrow(
      /no "model_type" and no "architectures", and the model's name "someone\/tiny-encoder" does not say.*add "model_type": "bert"/,
    );
  });

  it('pickle-only weights: pytorch_model.bin is fetched (and not the TensorFlow file)', async () => {
    const cache = nodeModelCache({ root: cacheRoot });
    requests.length = 0;
    const files = await downloadModel('google/pickled_bert', { cache, hubUrl });
    expect(files.has('pytorch_model.bin')).toBe(true);
    expect(await files.read('pytorch_model.bin')).toEqual(pickled);
    expect(requests.filter((r) => r.includes('tf_model.h5'))).toEqual([]);
  });

  it('no PyTorch weights at all: a clear unsupported error before any file is fetched', async () => {
    const cache = nodeModelCache({ root: cacheRoot });
    requests.length = 0;
    const error = await downloadModel('google/tf_only_bert', { cache, hubUrl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubDownloadError);
    expect((error as HubDownloadError).kind).toBe('unsupported');
    expect((error as Error).message).toMatch(
      /google\/tf_only_bert@main has no PyTorch weights: neither model\.safetensors nor pytorch_model\.bin/,
    );
    expect(requests.filter((r) => r.includes('/resolve/'))).toEqual([]);
  });
});

describe('config.json without model_type, as transformers reads it', () => {
  it('takes the longest model type in the name', () => {
    expect(
      [
        'google/bert_uncased_L-4_H-256_A-4',
        'x/distilbert-tiny',
        'x/roberta-mini',
        'albert-base-v2',
        'BERT-Tiny',
      ].map(modelTypeFromName),
    ).toEqual(['bert', 'distilbert', 'roberta', 'albert', undefined]);
    expect(encoderArchitectureOf(untypedConfig, 'prajjwal1/bert-tiny')).toBe('BertModel');
    expect(encoderArchitectureOf(untypedConfig, 'albert-base-v2')).toBeUndefined();
    expect(() => parseEncoderConfig(untypedConfig, undefined, 'albert-base-v2')).toThrow(
      new ModelConfigError(
        'config.json has no "model_type" and no "architectures", and transformers would read the name "albert-base-v2" as model type "albert", which Whetstone does not run. If it is BERT, add "model_type": "bert" (or "distilbert", "roberta") to config.json.',
      ),
    );
    expect(() => parseEncoderConfig(untypedConfig)).toThrow(/the model's name does not say/);
  });

  it('finds the name in a hub source, a dropped folder and a path', () => {
    expect(
      [
        'google/bert_uncased_L-2_H-128_A-2@main (cached in /home/me/.cache/whetstone/hub)',
        'the folder "bert-tiny"',
        '/models/roberta/tiny-encoder/',
      ].map(modelNameOfSource),
    ).toEqual(['google/bert_uncased_L-2_H-128_A-2', 'bert-tiny', 'tiny-encoder']);
  });
});
