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
  /** A line longer than this is reported as a bad row rather than parsed (a file that is one huge line). */
  maxLineLength?: number;
}

export interface ParsedRows {
  rows: DatasetRow[];
  badRows: DatasetRowError[];
}

/** 16 Mi characters: far past any real example, short of a whole file written without newlines. */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

/** Throws the bad row, or records it when bad rows are skipped. */
export function badRow(error: DatasetRowError, options: ReadOptions, badRows: DatasetRowError[]): void {
  if (!options.skipBadRows) throw error;
  badRows.push(error);
}

export function hugeLineDetail(length: number, limit: number): string {
  return (
    `this line is ${length.toLocaleString('en-US')} characters long, past the limit of ` +
    `${limit.toLocaleString('en-US')}; is the file one huge line (a JSON array, or a file without line breaks)?`
  );
}

/** Column names in the order they first appear across rows (JSON rows need not all have the same keys). */
export function columnsOf(rows: readonly DatasetRow[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row.value)) seen.add(key);
  return [...seen];
}

export { DatasetRowError };
