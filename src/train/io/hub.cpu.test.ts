/**
 * downloadModel against a local stand-in for the Hugging Face hub (node:http on 127.0.0.1, port 0),
 * serving the tiny llama fixture. The server answers the two endpoints @huggingface/hub calls:
 * GET /api/models/{repo}/tree/{revision} and GET /{repo}/resolve/{revision}/{file} (with Range),
 * and logs every request so the tests can count what was fetched. The cache is a temp folder.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tinyModelFiles } from '../fixtures/tiny-models';
import { openCheckpoint } from './checkpoint';
import { type DownloadProgress, downloadModel, HubDownloadError } from './hub';
import { CacheSizeMismatchError, cacheKey, type ModelCache } from './model-cache';
import { defaultCacheRoot, nodeModelCache } from './node-model-cache';
import { parseSafetensorsHeader, toFloat32, writeSafetensors } from './safetensors';

const asBytes = (value: Uint8Array | string) =>
  typeof value === 'string' ? new TextEncoder().encode(value) : value;
const tiny = Object.fromEntries(
  Object.entries(tinyModelFiles({ family: 'llama' })).map(([name, value]) => [name, asBytes(value)]),
);

/** The tiny model's weights split over two shards plus an index, as large HF checkpoints are stored. */
function shardedTiny(): Record<string, Uint8Array> {
  const whole = tiny['model.safetensors']!;
  const tensors = parseSafetensorsHeader('model.safetensors', whole).map((entry) => ({
    name: entry.name,
    shape: entry.shape,
    data: toFloat32(entry, whole.subarray(entry.begin, entry.end), 'model.safetensors'),
  }));
  const half = Math.ceil(tensors.length / 2);
  const shards = [tensors.slice(0, half), tensors.slice(half)];
  const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap = Object.fromEntries(shards.flatMap((part, i) => part.map((t) => [t.name, names[i]!])));
  const { 'model.safetensors': _, ...rest } = tiny;
  return {
    ...rest,
    [names[0]!]: writeSafetensors(shards[0]!),
    [names[1]!]: writeSafetensors(shards[1]!),
    'model.safetensors.index.json': asBytes(JSON.stringify({ metadata: {}, weight_map: weightMap })),
  };
}

interface MockRepo {
  files: Record<string, Uint8Array>;
  /** Resolve answers 401 unless this token is sent, as for a gated model; the listing stays public. */
  token?: string;
}

/** How the next full GET of a file misbehaves: send half, then drop the connection or hang. */
type Fault = 'drop' | 'stall';

const repos: Record<string, MockRepo> = {
  'test/tiny-llama': { files: tiny },
  'test/sharded': { files: shardedTiny() },
  'test/gated': { files: tiny, token: 'hf_granted' },
  'test/no-tokenizer': {
    files: { 'config.json': tiny['config.json']!, 'model.safetensors': tiny['model.safetensors']! },
  },
  'test/drop': { files: tiny },
  'test/stall': { files: tiny },
};
const faults = new Map<string, Fault>(); // `${repo}/${file}` → fault for its next full GET
const requests: string[] = [];
let hubUrl = '';
const server = createServer(answer);

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  requests.push(`${req.method} ${req.url}${req.headers.range ? ` (${req.headers.range})` : ''}`);
  const notFound = (code: string) => {
    res.writeHead(404, { 'Content-Type': 'application/json', 'X-Error-Code': code });
    res.end(JSON.stringify({ error: code === 'RepoNotFound' ? 'Repository not found' : 'Entry not found' }));
  };
  const tree = /^\/api\/models\/(.+)\/tree\/([^/]+)$/.exec(path);
  if (tree) {
    const repo = repos[tree[1]!];
    if (!repo) {
      notFound('RepoNotFound');
      return;
    }
    const entries = Object.entries(repo.files).map(([name, bytes]) => ({
      type: 'file',
      oid: `oid-${name}`,
      size: bytes.byteLength,
      path: name,
      ...(name.endsWith('.safetensors') && {
        lfs: { oid: `lfs-${name}`, size: bytes.byteLength, pointerSize: 134 },
      }),
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(entries));
    return;
  }
  const resolve = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  const repo = resolve && repos[resolve[1]!];
  if (!resolve || !repo) {
    notFound('RepoNotFound');
    return;
  }
  if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
    res.writeHead(401, { 'Content-Type': 'application/json', 'X-Error-Code': 'GatedRepo' });
    res.end(JSON.stringify({ error: `Access to model ${resolve[1]} is restricted.` }));
    return;
  }
  const bytes = repo.files[resolve[3]!];
  if (!bytes) {
    notFound('EntryNotFound');
    return;
  }
  const headers = { ETag: `"etag-${resolve[3]}"`, 'Accept-Ranges': 'bytes' };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : bytes.byteLength - 1, bytes.byteLength - 1);
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${bytes.byteLength}` });
    res.end(bytes.subarray(start, end + 1));
    return;
  }
  const faultKey = `${resolve[1]}/${resolve[3]}`;
  const fault = faults.get(faultKey);
  faults.delete(faultKey);
  res.writeHead(200, { ...headers, 'Content-Length': bytes.byteLength });
  if (!fault) {
    res.end(bytes);
    return;
  }
  res.write(bytes.subarray(0, bytes.byteLength >> 1));
  if (fault === 'drop') setTimeout(() => res.socket?.destroy(), 20);
}

let cacheRoot = '';
let cache: ModelCache;

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});
beforeEach(async () => {
  cacheRoot = await mkdtemp(join(tmpdir(), 'whetstone-hub-'));
  cache = nodeModelCache({ root: cacheRoot });
  requests.length = 0;
  faults.clear();
});
afterEach(async () => {
  await rm(cacheRoot, { recursive: true, force: true });
});

const fullGets = (file: string) =>
  requests.filter((r) => r.startsWith('GET') && r.includes(`/${file}`) && !r.includes('(bytes='));
const partialFiles = async () => readdir(join(cacheRoot, '.partial')).catch(() => []);

async function failure(promise: Promise<unknown>): Promise<HubDownloadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubDownloadError);
  return error as HubDownloadError;
}

describe('downloadModel', () => {
  it('downloads a model that openCheckpoint then loads, reporting progress up to the total', async () => {
    const progress: DownloadProgress[] = [];
    const files = await downloadModel('test/tiny-llama', {
      cache,
      hubUrl,
      onProgress: (p) => progress.push(p),
    });
    const checkpoint = await openCheckpoint(files);
    expect(checkpoint.config.C).toBe(32);
    expect(await files.read('model.safetensors')).toEqual(tiny['model.safetensors']);
    expect(files.has('chat_template.jinja')).toBe(false); // optional and absent
    expect(files.has('generation_config.json')).toBe(true);

    const total = Object.values(tiny).reduce((sum, bytes) => sum + bytes.byteLength, 0);
    const last = progress.at(-1)!;
    expect([last.overallLoaded, last.overallTotal]).toEqual([total, total]);
    for (const [a, b] of progress.slice(1).map((p, i) => [progress[i]!, p] as const))
      expect(b.overallLoaded).toBeGreaterThanOrEqual(a.overallLoaded);
    const weights = progress.filter((p) => p.file === 'model.safetensors').at(-1)!;
    expect(weights.loadedBytes).toBe(weights.totalBytes);

    // The URLs @huggingface/hub asks for: one listing, then a range probe and a full GET per file.
    expect(requests).toContain('GET /api/models/test/tiny-llama/tree/main?recursive=false&expand=false');
    expect(requests).toContain('GET /test/tiny-llama/resolve/main/model.safetensors (bytes=0-0)');
    expect(requests).toContain('GET /test/tiny-llama/resolve/main/model.safetensors');
    console.log(`hub requests:\n  ${requests.join('\n  ')}`);
  });

  it('serves a second call for the same repo@revision from the cache without any request', async () => {
    await downloadModel('test/tiny-llama', { cache, hubUrl });
    requests.length = 0;
    const progress: DownloadProgress[] = [];
    const files = await downloadModel('test/tiny-llama', {
      cache,
      hubUrl,
      onProgress: (p) => progress.push(p),
    });
    expect(requests).toEqual([]);
    await openCheckpoint(files);
    expect(progress.at(-1)?.overallLoaded).toBe(progress.at(-1)?.overallTotal);
    // Another revision is another cache entry.
    await downloadModel('test/tiny-llama', { cache, hubUrl, revision: 'v1' });
    expect(fullGets('model.safetensors')).toHaveLength(1);
  });

  it('downloads every shard of a sharded checkpoint', async () => {
    const progress: DownloadProgress[] = [];
    const files = await downloadModel('test/sharded', { cache, hubUrl, onProgress: (p) => progress.push(p) });
    const total = Object.values(repos['test/sharded']!.files).reduce(
      (sum, bytes) => sum + bytes.byteLength,
      0,
    );
    expect(progress.every((p) => p.overallTotal === total)).toBe(true);
    expect(progress.at(-1)?.overallLoaded).toBe(total);
    expect(fullGets('model-00001-of-00002.safetensors')).toHaveLength(1);
    expect(fullGets('model-00002-of-00002.safetensors')).toHaveLength(1);
    const sharded = await openCheckpoint(files);
    const single = await openCheckpoint(await downloadModel('test/tiny-llama', { cache, hubUrl }));
    expect(sharded.weights.size).toBe(single.weights.size);
    for (const name of sharded.weights.keys())
      expect(await sharded.read(name)).toEqual(await single.read(name));
  });

  it('a dropped connection names the repo and file, caches nothing partial, and a retry resumes', async () => {
    faults.set('test/drop/model.safetensors', 'drop');
    const error = await failure(downloadModel('test/drop', { cache, hubUrl }));
    expect([error.kind, error.repo, error.file]).toEqual(['network', 'test/drop', 'model.safetensors']);
    expect(error.message).toMatch(
      /Lost the connection.*test\/drop@main\/model\.safetensors after \d+ of 130232 bytes.*run the download again/,
    );
    const keys = await cache.list('test/drop@main/');
    expect(keys).not.toContain(cacheKey('test/drop', 'main', 'model.safetensors'));
    expect(keys.some((key) => key.endsWith('.whetstone-complete.json'))).toBe(false);
    expect(await partialFiles()).toEqual([]);

    requests.length = 0;
    await openCheckpoint(await downloadModel('test/drop', { cache, hubUrl }));
    expect(fullGets('config.json')).toEqual([]); // committed before the drop, so not fetched again
    expect(fullGets('model.safetensors')).toHaveLength(1);
  });

  it('a gated model without a token says to pass one; with the token it downloads', async () => {
    const error = await failure(downloadModel('test/gated', { cache, hubUrl }));
    expect([error.kind, error.status, error.file]).toEqual(['unauthorized', 401, 'config.json']);
    expect(error.message).toMatch(/gated or private.*pass an access token \(hf_\.\.\.\)/);
    const refused = await failure(downloadModel('test/gated', { cache, hubUrl, accessToken: 'hf_wrong' }));
    expect(refused.message).toMatch(/refused the access token/);
    const badToken = await failure(downloadModel('test/gated', { cache, hubUrl, accessToken: 'nope' }));
    expect(badToken.message).toMatch(/must start with hf_/);
    await openCheckpoint(await downloadModel('test/gated', { cache, hubUrl, accessToken: 'hf_granted' }));
  });

  it('an unknown repo or a missing file says it does not exist', async () => {
    const missingRepo = await failure(downloadModel('test/nope', { cache, hubUrl }));
    expect([missingRepo.kind, missingRepo.status]).toEqual(['not-found', 404]);
    expect(missingRepo.message).toMatch(/repo test\/nope does not exist at revision "main"/);
    const missingFile = await failure(downloadModel('test/no-tokenizer', { cache, hubUrl }));
    expect([missingFile.kind, missingFile.file]).toEqual(['not-found', 'tokenizer.json']);
    expect(missingFile.message).toMatch(/has no tokenizer\.json.*does not exist/);
    expect(fullGets('model.safetensors')).toEqual([]); // failed before fetching weights
    const badId = await failure(downloadModel('../etc', { cache, hubUrl }));
    expect(badId.message).toMatch(/not a Hugging Face repo id/);
    expect(await cache.list('')).toEqual([]);
  });

  it('an AbortSignal stops the download mid-file and leaves no entry', async () => {
    faults.set('test/stall/model.safetensors', 'stall');
    const controller = new AbortController();
    const onProgress = (p: DownloadProgress) => {
      if (p.file === 'model.safetensors' && p.loadedBytes > 0) controller.abort();
    };
    const started = performance.now();
    const error = await failure(
      downloadModel('test/stall', { cache, hubUrl, signal: controller.signal, onProgress }),
    );
    expect(performance.now() - started).toBeLessThan(5000);
    expect([error.kind, error.file]).toEqual(['aborted', 'model.safetensors']);
    expect(await cache.has(cacheKey('test/stall', 'main', 'model.safetensors'))).toBe(false);
    expect(await partialFiles()).toEqual([]);
    const aborted = new AbortController();
    aborted.abort();
    const early = await failure(downloadModel('test/stall', { cache, hubUrl, signal: aborted.signal }));
    expect(early.kind).toBe('aborted');
  });
});

describe('nodeModelCache', () => {
  it('commits only a complete entry and keeps temporary files out of list', async () => {
    const key = cacheKey('a/b', 'refs/pr/1', 'x.bin');
    expect(key).toBe('a/b@refs%2Fpr%2F1/x.bin');
    const short = await cache.put(key, 4);
    await short.write(Uint8Array.of(1, 2, 3));
    expect(await cache.list('')).toEqual([]);
    await expect(short.commit()).rejects.toBeInstanceOf(CacheSizeMismatchError);
    expect(await cache.has(key)).toBe(false);
    const whole = await cache.put(key, 4);
    await whole.write(Uint8Array.of(1, 2));
    await whole.write(Uint8Array.of(3, 4));
    await whole.commit();
    expect(await cache.get(key, 1, 3)).toEqual(Uint8Array.of(2, 3));
    expect([await cache.size(key), await cache.list('a/b@')]).toEqual([4, [key]]);
    expect(await partialFiles()).toEqual([]);
    await cache.delete(key);
    expect(await cache.has(key)).toBe(false);
    await expect(cache.put('a/../../x', 1)).rejects.toThrow(/Bad model cache key/);
  });

  it('defaults to ~/.cache/whetstone/hub unless WHETSTONE_CACHE is set', () => {
    expect(defaultCacheRoot({ WHETSTONE_CACHE: '/tmp/elsewhere' })).toBe('/tmp/elsewhere');
    expect(defaultCacheRoot({})).toMatch(/[/\\]\.cache[/\\]whetstone[/\\]hub$/);
  });
});
