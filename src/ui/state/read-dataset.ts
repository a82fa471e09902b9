/**
 * Reads what the person pasted into training examples: JSON Lines of {"text": ...} rows, or
 * plain text with one example per line. A malformed JSONL row is reported with its line number (from
 * `DatasetRowError`), never skipped. `splitValidation` holds the last rows out for validation.
 * (Files go through the dataset worker and the whole data pipeline instead: see dataset-slice.ts.)
 */

import type { DatasetFormat as FileFormat } from '../../train/data/formats';
import { DatasetRowError, parseJsonl, textRows } from '../../train/data/jsonl';

/** Pasted text reads as JSON Lines or plain text; a library file may be in any format the pipeline reads. */
export type DatasetFormat = FileFormat;

export interface DatasetRow {
  /** 1-based line in the source text. */
  line: number;
  text: string;
}

export type DatasetReading =
  | { ok: true; format: DatasetFormat; rows: DatasetRow[] }
  | {
      ok: false;
      format: DatasetFormat;
      line: number;
      /** The whole error message, naming the file and line. */
      message: string;
      /** What is wrong with the line, and its start, without the file and line. */
      problem: string;
    };

/** JSONL when the file says so, or when the first non-blank line opens a JSON object. */
export function detectFormat(text: string, fileName?: string | null): DatasetFormat {
  if (fileName) {
    if (/\.jsonl$/i.test(fileName)) return 'jsonl';
    if (/\.txt$/i.test(fileName)) return 'text';
  }
  const first = text.split(/\r?\n/).find((line) => line.trim() !== '');
  return first?.trimStart().startsWith('{') ? 'jsonl' : 'text';
}

export function readDataset(text: string, fileName?: string | null): DatasetReading {
  const format = detectFormat(text, fileName);
  if (format === 'text') {
    const rows = text
      .split(/\r?\n/)
      .map((line, index) => ({ line: index + 1, text: line.trim() }))
      .filter((row) => row.text !== '');
    return { ok: true, format, rows };
  }
  try {
    return {
      ok: true,
      format,
      rows: textRows(parseJsonl(text, fileName ?? undefined), fileName ?? undefined),
    };
  } catch (error) {
    if (error instanceof DatasetRowError) {
      const prefix = `${error.file}, line ${error.line}: `;
      const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      return { ok: false, format, line: error.line, message: error.message, problem };
    }
    throw error;
  }
}

export interface ValidationSplit {
  train: string[];
  validation: string[];
  /** False when validation reuses the training rows because there are too few to hold any out. */
  heldOut: boolean;
}

/** Holds out the last tenth (at least one row) once there are 4 rows or more. */
export function splitValidation(texts: string[]): ValidationSplit {
  if (texts.length < 4) return { train: texts, validation: texts, heldOut: false };
  const count = Math.max(1, Math.round(texts.length / 10));
  return { train: texts.slice(0, -count), validation: texts.slice(-count), heldOut: true };
}
