/**
 * A dataset file to examples from a stream of bytes, the entry point for large files, used by the CLI
 * (an fs read stream) and the browser (a File, in the dataset worker):
 *
 *   loadDatasetStream(fileName: string, source: ByteSource, options?: StreamLoadOptions): Promise<LoadedDataset>
 *   readDatasetStream(fileName: string, source: ByteSource, options?: StreamLoadOptions): Promise<RawDataset>
 *
 * ByteSource is a Blob/File, a web ReadableStream<Uint8Array>, or any (async) iterable of Uint8Array
 * chunks. options are loadDataset's (format, schema, textMode, quoting, skipBadRows, maxLineBytes) plus
 * `totalBytes` (taken from a Blob's size when not given) and `onProgress({bytesRead, totalBytes})`,
 * called after each chunk. The result is what loadDataset gives for the same bytes.
 * JSON Lines, CSV, TSV and plain text are parsed line by line as the chunks arrive, so the file's bytes
 * are never held whole (only the rows parsed from them). A JSON array and Parquet need the whole file:
 * their chunks are gathered into one buffer (preallocated when the size is known) and read as before.
 * The format is detected from the name, then from the first 64 KiB.
 */
import { detectFormat, type RawDataset, readDataset } from '../formats';
import { examplesOf, type LoadDatasetOptions, type LoadedDataset } from '../load-dataset';
import { type ByteSource, chunksOf, type ReadProgress, readLineBatches, sizeOf } from './line-reader';
import { streamRawDataset } from './stream-rows';

export type { ByteSource, ReadProgress } from './line-reader';

export interface StreamLoadOptions extends LoadDatasetOptions {
  /** The file's size, for progress; a Blob's own size when absent. */
  totalBytes?: number;
  onProgress?: (progress: ReadProgress) => void;
}

const HEAD_BYTES = 64 * 1024;

/** The first chunks (at least HEAD_BYTES, or all) and the chunks again from the start. */
async function peek(
  source: ByteSource,
): Promise<{ head: Uint8Array; complete: boolean; all: AsyncIterable<Uint8Array> }> {
  const iterator = chunksOf(source)[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  while (size < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    seen.push(next.value);
    size += next.value.length;
  }
  const head = new Uint8Array(size);
  let at = 0;
  for (const chunk of seen) {
    head.set(chunk, at);
    at += chunk.length;
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* seen;
    if (complete) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { head, complete, all: all() };
}

/** Every chunk in one buffer, for the formats that need the whole file. */
async function gather(
  chunks: AsyncIterable<Uint8Array>,
  totalBytes: number | undefined,
  onProgress?: (p: ReadProgress) => void,
): Promise<Uint8Array> {
  let buffer = new Uint8Array(totalBytes ?? 1 << 20);
  let length = 0;
  for await (const chunk of chunks) {
    if (length + chunk.length > buffer.length) {
      let size = buffer.length;
      while (size < length + chunk.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    buffer.set(chunk, length);
    length += chunk.length;
    onProgress?.({ bytesRead: length, totalBytes });
  }
  return buffer.subarray(0, length);
}

export async function readDatasetStream(
  fileName: string,
  source: ByteSource,
  options: StreamLoadOptions = {},
): Promise<RawDataset> {
  const totalBytes = options.totalBytes ?? sizeOf(source);
  const { head, complete, all } = await peek(source);
  const format = options.format ?? detectFormat(fileName, head, !complete);
  if (format === 'json' || format === 'parquet') {
    const bytes = await gather(all, totalBytes, options.onProgress);
    return readDataset(fileName, bytes, { ...options, format });
  }
  const lines = readLineBatches(all, {
    file: fileName,
    maxLineBytes: options.maxLineBytes,
    totalBytes,
    onProgress: options.onProgress,
  });
  return streamRawDataset(fileName, format, lines, options);
}

export async function loadDatasetStream(
  fileName: string,
  source: ByteSource,
  options: StreamLoadOptions = {},
): Promise<LoadedDataset> {
  return examplesOf(await readDatasetStream(fileName, source, options), options);
}
