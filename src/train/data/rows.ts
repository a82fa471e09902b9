/**
 * What every format reader returns: rows as plain objects with the line (or row) they came from, and
 * the bad rows it skipped. A reader throws the first bad row unless `skipBadRows` is set; then it
 * collects them so the count and the first few can be reported.
 */
import { DatasetRowError } from './jsonl';

export interface DatasetRow {
  /** 1-based line of a text file where the row starts, or 1-based row of a Parquet file. */
  line: number;
  value: Record<string, unknown>;
}

export interface ReadOptions {
  /** The name used in messages. */
  file?: string;
  /** Skip malformed rows and count them, instead of stopping at the first. */
  skipBadRows?: boolean;
  /**
   * A line (a CSV record) longer than this many UTF-8 bytes is a bad row, DatasetLineTooLongError, rather
   * than parsed: a file that is one huge line. Default DEFAULT_MAX_LINE_BYTES.
   */
  maxLineBytes?: number;
}

export interface ParsedRows {
  rows: DatasetRow[];
  badRows: DatasetRowError[];
}

/** 64 MiB: far past any real example, short of a whole file written without line breaks. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The UTF-8 size of a string (a lone surrogate counts 3 bytes, as TextEncoder writes U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The line's UTF-8 size when it passes `limit` bytes, else undefined; cheap for the usual short line. */
export function overLineLimit(text: string, limit: number): number | undefined {
  // A UTF-16 code unit is 1 to 3 bytes, so the length alone usually settles it.
  if (text.length > limit) return utf8ByteLength(text);
  if (text.length * 3 <= limit) return undefined;
  const bytes = utf8ByteLength(text);
  return bytes > limit ? bytes : undefined;
}

function sizeText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (mib >= 1) return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** A line past the size limit: its own kind of bad row, with the size and the limit. */
export class DatasetLineTooLongError extends DatasetRowError {
  override readonly name: string = 'DatasetLineTooLongError';
  constructor(
    line: number,
    snippet: string,
    readonly bytes: number,
    readonly limit: number,
    file?: string,
  ) {
    super(
      line,
      snippet,
      `this line is ${bytes.toLocaleString('en-US')} bytes (${sizeText(bytes)}) long, past the limit of ` +
        `${sizeText(limit)}; is the file one huge line (a JSON array, or a file without line breaks)? ` +
        'Split it into one example per line, or raise the limit (maxLineBytes, --max-line-mib)',
      file,
    );
  }
}

/** Throws the bad row, or records it when bad rows are skipped. */
export function badRow(error: DatasetRowError, options: ReadOptions, badRows: DatasetRowError[]): void {
  if (!options.skipBadRows) throw error;
  badRows.push(error);
}

/** Column names in the order they first appear across rows (JSON rows need not all have the same keys). */
export function columnsOf(rows: readonly DatasetRow[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row.value)) seen.add(key);
  return [...seen];
}

export { DatasetRowError };
