/**
 * Downloads a model from the Hugging Face hub by repo id (e.g. `HuggingFaceTB/SmolLM2-135M-Instruct`)
 * through `@huggingface/hub`, into a ModelCache, and returns a ModelFiles over the cached copy.
 *
 * Contract:
 * - Fetches config.json, tokenizer.json, tokenizer_config.json, generation_config.json and
 *   chat_template.jinja when present (an encoder without tokenizer.json: its vocab.txt, and
 *   tokenizer_config.json if there), and model.safetensors or model.safetensors.index.json plus the
 *   shards it lists (a repo without safetensors: pytorch_model.bin or its index and shards). Which files exist and their sizes come from one tree listing up front, so a
 *   missing file fails before any weight is fetched and the overall total is known from the start.
 * - Each file is written to a temporary cache entry and committed only once exactly the listed number
 *   of bytes arrived; any failure or abort discards it. Files already committed are kept, so a retry
 *   resumes at file granularity.
 * - A marker entry is committed last. When it is present, a later call for the same repo@revision is
 *   served from the cache without any request (so a moved branch is not noticed: delete the entries
 *   under `repo@revision/` to refresh).
 * - Every failure is a HubDownloadError (hub-errors.ts) naming the repo, the file and a `kind`, with
 *   what to do.
 *
 * Hub endpoints used (via @huggingface/hub): GET {hubUrl}/api/models/{repo}/tree/{revision} for the
 * listing, then per file GET {hubUrl}/{repo}/resolve/{revision}/{file} with `Range: bytes=0-0` (size
 * and Xet probe), then the full GET (or the Xet protocol for Xet-backed files).
 */
import { downloadFile, listFiles } from '@huggingface/hub';
import {
  asHubError,
  errorText,
  HubDownloadError,
  type HubTarget,
  listingFile,
  notInRepo,
  noWeights,
} from './hub-errors';
import { type CacheEntryWriter, cacheKey, type ModelCache } from './model-cache';
import type { ModelFiles } from './model-files';
import { indexShards, weightFileChoices } from './stored-weights';

export { HubDownloadError, type HubFailure } from './hub-errors';

export interface DownloadProgress {
  file: string;
  loadedBytes: number;
  totalBytes: number;
  overallLoaded: number;
  overallTotal: number;
}

export interface DownloadModelOptions {
  cache: ModelCache;
  /** Branch, tag or commit. Default 'main'. */
  revision?: string;
  /** A Hugging Face token (hf_...), needed for gated and private models. */
  accessToken?: string;
  /** Default https://huggingface.co; tests point it at a local server. */
  hubUrl?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  fetch?: typeof fetch;
}

const requiredFiles = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
/** Older BERT-family repos (google/bert_uncased_L-*) ship the slow tokenizer's vocab.txt only. */
const vocabFile = 'vocab.txt';
const optionalFiles = ['generation_config.json', 'chat_template.jinja'];
/** Committed after every file; its presence means the download is complete. Lists name → bytes. */
const completeMarker = '.whetstone-complete.json';

interface Hub extends HubTarget {
  fetch: typeof fetch;
  cache: ModelCache;
}

export async function downloadModel(repo: string, options: DownloadModelOptions): Promise<ModelFiles> {
  const hub = resolveOptions(repo, options);
  const report = options.onProgress ?? (() => {});
  const cached = await completeFromCache(hub);
  if (cached) {
    reportAllDone(cached, report);
    return filesFromCache(hub, cached);
  }

  const listing = await listRepo(hub);
  const plan = new Map<string, number>();
  const need = (file: string) => {
    const size = listing.get(file);
    if (size === undefined) throw notInRepo(hub, file);
    plan.set(file, size);
  };
  const vocabOnly = !listing.has('tokenizer.json') && listing.has(vocabFile);
  for (const file of requiredFiles) if (!vocabOnly || file === 'config.json' || listing.has(file)) need(file);
  if (vocabOnly) need(vocabFile);
  for (const file of optionalFiles) if (listing.has(file)) need(file);

  // Safetensors when the repo has them, else PyTorch's pytorch_model.bin (read without running it).
  const choice = weightFileChoices.find((c) => listing.has(c.single) || listing.has(c.index));
  if (!choice) throw noWeights(hub);
  if (listing.has(choice.single)) need(choice.single);
  else {
    // The index names the shards, so it comes first; the loop below then finds it already cached.
    need(choice.index);
    await fetchToCache(hub, choice.index, plan.get(choice.index) ?? 0, () => {});
    for (const shard of await shardsOf(hub, choice.index)) need(shard);
  }

  const overallTotal = [...plan.values()].reduce((a, b) => a + b, 0);
  let overallLoaded = 0;
  for (const [file, totalBytes] of plan) {
    const before = overallLoaded;
    await fetchToCache(hub, file, totalBytes, (loadedBytes) =>
      report({ file, loadedBytes, totalBytes, overallLoaded: before + loadedBytes, overallTotal }),
    );
    overallLoaded = before + totalBytes;
  }

  const marker = new TextEncoder().encode(JSON.stringify({ files: Object.fromEntries(plan) }));
  await writeEntry(hub, completeMarker, marker);
  return filesFromCache(hub, plan);
}

function resolveOptions(repo: string, options: DownloadModelOptions): Hub {
  // Owner/name, or a bare name for the legacy root models (gpt2); nothing that could escape a path.
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || repo.split('/').some((part) => /^\.+$/.test(part)))
    throw new HubDownloadError(
      repo,
      listingFile,
      'not-found',
      `"${repo}" is not a Hugging Face repo id; expected owner/name, e.g. HuggingFaceTB/SmolLM2-135M-Instruct.`,
    );
  if (options.accessToken !== undefined && !options.accessToken.startsWith('hf_'))
    throw new HubDownloadError(
      repo,
      listingFile,
      'unauthorized',
      'The access token must start with hf_; create one at huggingface.co/settings/tokens.',
    );
  const baseFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const signal = options.signal;
  if (signal?.aborted)
    throw new HubDownloadError(
      repo,
      listingFile,
      'aborted',
      `Download of ${repo} was cancelled before it began.`,
    );
  return {
    repo,
    revision: options.revision ?? 'main',
    hubUrl: (options.hubUrl ?? 'https://huggingface.co').replace(/\/+$/, ''),
    accessToken: options.accessToken,
    signal,
    // The library takes no AbortSignal; giving it to every request it makes is how cancel reaches it.
    fetch: signal ? (input, init) => baseFetch(input, { ...init, signal }) : baseFetch,
    cache: options.cache,
  };
}

/** The marker's file sizes when the marker and every file it names are in the cache, else undefined. */
async function completeFromCache(hub: Hub): Promise<Map<string, number> | undefined> {
  const markerKey = cacheKey(hub.repo, hub.revision, completeMarker);
  if (!(await hub.cache.has(markerKey))) return undefined;
  let files: Record<string, number>;
  try {
    const text = new TextDecoder().decode(await hub.cache.get(markerKey));
    files = (JSON.parse(text) as { files: Record<string, number> }).files;
  } catch {
    return undefined; // unreadable marker: download again, which rewrites it
  }
  const sizes = new Map(Object.entries(files));
  for (const [file, size] of sizes)
    if ((await hub.cache.size(cacheKey(hub.repo, hub.revision, file))) !== size) return undefined;
  return sizes;
}

function reportAllDone(sizes: Map<string, number>, report: (progress: DownloadProgress) => void): void {
  const overallTotal = [...sizes.values()].reduce((a, b) => a + b, 0);
  let overallLoaded = 0;
  for (const [file, size] of sizes) {
    overallLoaded += size;
    report({ file, loadedBytes: size, totalBytes: size, overallLoaded, overallTotal });
  }
}

function filesFromCache(hub: Hub, sizes: Map<string, number>): ModelFiles {
  const source = `${hub.repo}@${hub.revision} (cached in ${hub.cache.location})`;
  return {
    source,
    has: (name) => sizes.has(name),
    size: (name) => sizes.get(name) ?? 0,
    async read(name, start, end) {
      if (!sizes.has(name)) throw new Error(`${source} has no ${name}.`);
      return hub.cache.get(cacheKey(hub.repo, hub.revision, name), start, end);
    },
  };
}

/** File path → size in bytes, from the hub's tree listing of the repo's top folder. */
async function listRepo(hub: Hub): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  try {
    for await (const entry of listFiles({
      repo: hub.repo,
      revision: hub.revision,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch: hub.fetch,
    }))
      if (entry.type === 'file') sizes.set(entry.path, entry.lfs?.size ?? entry.size);
  } catch (error) {
    throw asHubError(hub, listingFile, error);
  }
  return sizes;
}

async function shardsOf(hub: Hub, weightIndex: string): Promise<string[]> {
  const bytes = await hub.cache.get(cacheKey(hub.repo, hub.revision, weightIndex));
  try {
    return indexShards(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    // A broken index must not stay cached, or every later call would trip on it.
    await hub.cache.delete(cacheKey(hub.repo, hub.revision, weightIndex));
    throw new HubDownloadError(hub.repo, weightIndex, 'http', `${hub.repo}: ${weightIndex} is not JSON.`, {
      cause: error,
    });
  }
}

/** Streams one file into a temporary cache entry and commits it once `totalBytes` arrived. */
async function fetchToCache(
  hub: Hub,
  file: string,
  totalBytes: number,
  onBytes: (loadedBytes: number) => void,
): Promise<void> {
  const key = cacheKey(hub.repo, hub.revision, file);
  if ((await hub.cache.size(key)) === totalBytes) {
    onBytes(totalBytes); // committed by an earlier, interrupted call
    return;
  }
  let writer: CacheEntryWriter | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let storing = false; // tells a cache failure from a network one in the catch below
  try {
    const blob = await downloadFile({
      repo: hub.repo,
      path: file,
      revision: hub.revision,
      hubUrl: hub.hubUrl,
      accessToken: hub.accessToken,
      fetch: hub.fetch,
    });
    if (!blob) throw notInRepo(hub, file);
    storing = true;
    writer = await hub.cache.put(key, totalBytes);
    storing = false;
    reader = blob.stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
    for (;;) {
      const { done, value } = await reader.read();
      hub.signal?.throwIfAborted();
      if (done) break;
      storing = true;
      await writer.write(value);
      storing = false;
      onBytes(writer.bytesWritten);
    }
    if (writer.bytesWritten !== totalBytes)
      throw new HubDownloadError(
        hub.repo,
        file,
        'incomplete',
        `${hub.repo}: ${file} arrived with ${writer.bytesWritten} bytes but the hub lists ${totalBytes}; nothing was cached. Run the download again.`,
      );
    storing = true;
    await writer.commit();
  } catch (error) {
    await reader?.cancel().catch(() => {});
    await writer?.discard();
    if (storing && !hub.signal?.aborted)
      throw new HubDownloadError(
        hub.repo,
        file,
        'cache',
        `Could not store ${hub.repo}/${file} in ${hub.cache.location} (${errorText(error)}). Free some space or choose another cache location (WHETSTONE_CACHE in Node).`,
        { cause: error },
      );
    throw asHubError(hub, file, error, writer?.bytesWritten, totalBytes);
  }
}

async function writeEntry(hub: Hub, file: string, bytes: Uint8Array): Promise<void> {
  const writer = await hub.cache.put(cacheKey(hub.repo, hub.revision, file), bytes.byteLength);
  try {
    await writer.write(bytes);
    await writer.commit();
  } catch (error) {
    await writer.discard();
    throw error;
  }
}
