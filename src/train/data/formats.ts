/**
 * Which format a dataset file is in, and its rows: the one entry point from bytes to rows.
 * The extension decides (.jsonl/.ndjson, .json, .csv, .tsv, .parquet, .txt); where it does not
 * (.txt, .json, anything else), the content does: Parquet's PAR1 magic, a JSON array's "[", a JSON
 * object's "{", or a header and the next line with the same number of tabs (MRPC's .txt files are TSV).
 * The choice can be overridden. An empty file, or one with no rows, is an EmptyDatasetError.
 */
import { decodeDatasetText } from './decode';
import { type Quoting, readDelimited } from './delimited';
import { EmptyDatasetError } from './errors';
import { readJsonArray, readJsonLines } from './json';
import type { DatasetRowError } from './jsonl';
import { readParquet } from './parquet';
import { type PlainTextMode, readPlainText } from './plain-text';
import { columnsOf, type DatasetRow, type ReadOptions } from './rows';

export type DatasetFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet' | 'text';

export interface ReadDatasetOptions extends Omit<ReadOptions, 'file'> {
  /** Overrides detection. */
  format?: DatasetFormat;
  /** Plain text only: how the text becomes examples (default 'blocks'). */
  textMode?: PlainTextMode;
  /** CSV and TSV only: see delimited.ts (defaults: 'csv' for CSV, 'none' for TSV). */
  quoting?: Quoting;
}

export interface RawDataset {
  file: string;
  format: DatasetFormat;
  /** What a row's `line` counts. */
  unit: 'line' | 'row';
  columns: string[];
  rows: DatasetRow[];
  badRows: DatasetRowError[];
  /** Plain text only. */
  textMode?: PlainTextMode;
}

const PAR1 = [0x50, 0x41, 0x52, 0x31];

function isParquet(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 12 && PAR1.every((b, i) => bytes[i] === b && bytes[n - 4 + i] === b);
}

/** The first bytes as text, enough to sniff a format without decoding a large file. */
function head(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes.subarray(0, 64 * 1024));
}

function looksLikeTsv(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const tabs = (line: string | undefined) => (line ?? '').split('\t').length - 1;
  return lines.length >= 2 && tabs(lines[0]) >= 1 && tabs(lines[1]) === tabs(lines[0]);
}

/**
 * The format by extension, then by content. `partial`: `bytes` is only the start of the file (a stream's
 * first chunks), so Parquet is recognised by its leading magic alone.
 */
export function detectFormat(fileName: string, bytes: Uint8Array, partial = false): DatasetFormat {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (extension === 'jsonl' || extension === 'ndjson') return 'jsonl';
  if (extension === 'csv') return 'csv';
  if (extension === 'tsv') return 'tsv';
  const parquetMagic = partial ? PAR1.every((b, i) => bytes[i] === b) : isParquet(bytes);
  if (extension === 'parquet' || parquetMagic) return 'parquet';
  const start = head(bytes).replace(/^\uFEFF/, '');
  const first = start.trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{') return 'jsonl'; // also HF datasets' .json files, which are JSON Lines
  if (looksLikeTsv(start)) return 'tsv';
  return 'text';
}

export async function readDataset(
  fileName: string,
  bytes: Uint8Array,
  options: ReadDatasetOptions = {},
): Promise<RawDataset> {
  const format = options.format ?? detectFormat(fileName, bytes);
  const read = { ...options, file: fileName };
  let dataset: RawDataset;
  if (format === 'parquet') {
    const { rows, columns } = await readParquet(bytes, read);
    dataset = { file: fileName, format, unit: 'row', columns, rows, badRows: [] };
  } else {
    const text = decodeDatasetText(bytes, fileName);
    if (format === 'text') {
      const textMode = options.textMode ?? 'blocks';
      const rows = readPlainText(text, textMode);
      dataset = { file: fileName, format, unit: 'line', columns: ['text'], rows, badRows: [], textMode };
    } else if (format === 'csv' || format === 'tsv') {
      const delimiter = format === 'csv' ? ',' : '\t';
      const { rows, badRows, columns } = readDelimited(text, {
        ...read,
        delimiter,
        quoting: options.quoting,
      });
      if (!columns.length) throw new EmptyDatasetError(fileName, 'it has no header row');
      dataset = { file: fileName, format, unit: 'line', columns, rows, badRows };
    } else {
      const { rows, badRows } = format === 'json' ? readJsonArray(text, read) : readJsonLines(text, read);
      dataset = { file: fileName, format, unit: 'line', columns: columnsOf(rows), rows, badRows };
    }
  }
  return checkHasRows(dataset);
}

/** A dataset with no good rows is an EmptyDatasetError that says whether it had bad ones. */
export function checkHasRows(dataset: RawDataset): RawDataset {
  if (dataset.rows.length === 0) {
    const bad = dataset.badRows[0];
    throw new EmptyDatasetError(
      dataset.file,
      bad ? `all ${dataset.badRows.length} of its rows are bad, the first: ${bad.message}` : 'it has no rows',
    );
  }
  return dataset;
}
