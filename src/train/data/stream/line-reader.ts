/**
 * A text file's lines from a stream of byte chunks, without ever holding the whole file: the browser
 * gives a File (`blob.stream()`), the CLI an fs read stream, tests arrays of tiny chunks.
 * Contract:
 * - Lines are cut at the byte 0x0A, which never occurs inside a multi-byte UTF-8 sequence, so a
 *   character split across chunks is joined before it is decoded; a CR before the LF is dropped from
 *   `text` and kept in `eol`, also when the CR and LF arrive in different chunks.
 * - Each line is decoded as strict UTF-8 (a UTF-8 BOM at the start of the file dropped); a bad byte is a
 *   DatasetEncodingError with its offset in the file and its line, and a UTF-16 BOM is refused as the
 *   whole-file decoder (decode.ts) refuses it. An empty file is an EmptyDatasetError.
 * - A line longer than `maxLineBytes` is not buffered: its first bytes are kept as a snippet, the rest is
 *   counted and dropped, and the line comes out with `overLimitBytes` set, for the reader to report.
 * - `onProgress` is called after every chunk with the bytes read so far and the total, when known.
 * Line numbers are 1-based and count LF bytes, as the whole-file readers count them.
 */
import { firstInvalidUtf8 } from '../decode';
import { DatasetEncodingError, EmptyDatasetError } from '../errors';
import { DEFAULT_MAX_LINE_BYTES } from '../rows';

export interface StreamLine {
  /** 1-based line number. */
  line: number;
  /** The line's text without its line end. */
  text: string;
  /** The line end that followed it: '' only for a last line with none. */
  eol: '\n' | '\r\n' | '';
  /** Byte offset of the line's first byte in the file. */
  byteOffset: number;
  /** The line's size in bytes, without its line end (or a UTF-8 BOM). */
  bytes: number;
  /** Set when the line passed `maxLineBytes`: its size in bytes; `text` then holds only its start. */
  overLimitBytes?: number;
}

export interface ReadProgress {
  bytesRead: number;
  /** The file's size when the source knows it (a Blob, an fs stat), else undefined. */
  totalBytes?: number;
}

export interface LineReaderOptions {
  /** The name used in messages. */
  file?: string;
  /** A line longer than this many bytes is cut short and flagged (default 64 MiB). */
  maxLineBytes?: number;
  totalBytes?: number;
  onProgress?: (progress: ReadProgress) => void;
}

/** What a line reader takes: chunks as an async iterable, a web ReadableStream, or a Blob (a File). */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array> | Blob;

/** Bytes kept of a line past the limit, to show as its snippet. */
const SNIPPET_BYTES = 256;

function isBlob(source: ByteSource): source is Blob {
  return typeof Blob !== 'undefined' && source instanceof Blob;
}

/** The chunks of any ByteSource, as an async iterable (a ReadableStream is read through its reader). */
export async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  const stream = isBlob(source) ? source.stream() : source;
  if ('getReader' in stream) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  // Node's Buffer is a Uint8Array; a chunk of another view type is taken as its bytes.
  for await (const chunk of stream as AsyncIterable<Uint8Array>) yield chunk;
}

/** The byte size of a source when it knows it. */
export function sizeOf(source: ByteSource): number | undefined {
  return isBlob(source) ? source.size : undefined;
}

/** Growable byte buffer for the line being assembled (amortised doubling, no per-chunk concatenation). */
class LineBuffer {
  bytes = new Uint8Array(4096);
  length = 0;
  append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (this.length + n > this.bytes.length) {
      let size = this.bytes.length;
      while (size < this.length + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(chunk.subarray(from, to), this.length);
    this.length += n;
  }
}

/** The lines of a source one at a time (see readLineBatches for the faster form). */
export async function* readLines(
  source: ByteSource,
  options: LineReaderOptions = {},
): AsyncGenerator<StreamLine> {
  for await (const batch of readLineBatches(source, options)) yield* batch;
}

/**
 * The lines of a source, in one array per chunk read (possibly empty): one await per chunk rather than
 * per line, which is most of the cost of reading short lines.
 */
export async function* readLineBatches(
  source: ByteSource,
  options: LineReaderOptions = {},
): AsyncGenerator<StreamLine[]> {
  const file = options.file ?? 'the dataset';
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const totalBytes = options.totalBytes ?? sizeOf(source);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const snippetDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const buffer = new LineBuffer();
  let bytesRead = 0;
  let line = 1;
  let lineStart = 0; // file offset of the current line's first byte
  let lineBytes = 0; // bytes of the current line seen so far, also those dropped past the limit
  let lastByte = -1; // the current line's last byte so far, to find a CR before the LF
  let first: number[] = []; // the file's first bytes, for the BOM checks

  const finish = (eolBytes: number): StreamLine => {
    // A CR before the LF (or at the very end) is not part of the line, as the whole-file readers drop it.
    const cr = lineBytes > 0 && lastByte === 0x0d;
    const contentBytes = lineBytes - (cr ? 1 : 0);
    const eol: StreamLine['eol'] = eolBytes ? (cr ? '\r\n' : '\n') : '';
    const start = lineStart === 0 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
    const over = contentBytes > limit;
    let text: string;
    if (over)
      text = snippetDecoder.decode(
        buffer.bytes.subarray(start, Math.min(buffer.length, contentBytes, SNIPPET_BYTES)),
      );
    else {
      const bytes = buffer.bytes.subarray(start, contentBytes);
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new DatasetEncodingError(file, lineStart + start + Math.max(0, firstInvalidUtf8(bytes)), line);
      }
    }
    const result: StreamLine = { line, text, eol, byteOffset: lineStart, bytes: contentBytes - start };
    if (over) result.overLimitBytes = result.bytes;
    return result;
  };

  for await (const chunk of chunksOf(source)) {
    const batch: StreamLine[] = [];
    if (first.length < 3) {
      first = [...first, ...chunk.subarray(0, 3 - first.length)];
      if ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff))
        throw new DatasetEncodingError(file, 0, 1, 'UTF-16, not UTF-8');
    }
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(0x0a, from);
      const to = newline === -1 ? chunk.length : newline;
      // Past the limit only the first bytes (the snippet) are kept; the rest is counted.
      if (lineBytes + (to - from) <= limit + 1) buffer.append(chunk, from, to);
      else if (buffer.length < SNIPPET_BYTES)
        buffer.append(chunk, from, Math.min(to, from + SNIPPET_BYTES - buffer.length));
      if (to > from) lastByte = chunk[to - 1] as number;
      lineBytes += to - from;
      if (newline === -1) break;
      batch.push(finish(1));
      line++;
      lineStart += lineBytes + 1;
      lineBytes = 0;
      buffer.length = 0;
      lastByte = -1;
      from = newline + 1;
    }
    bytesRead += chunk.length;
    options.onProgress?.({ bytesRead, totalBytes });
    yield batch;
  }
  if (bytesRead === 0) throw new EmptyDatasetError(file, 'it has no bytes');
  if (lineBytes > 0 || lineStart < bytesRead) yield [finish(0)];
}
