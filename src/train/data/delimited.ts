/**
 * CSV and TSV through papaparse, the first non-empty row being the header. Two quoting rules:
 * - 'csv' (RFC 4180, the default for CSV): fields may be quoted with ", a doubled "" is a literal quote,
 *   and a quoted field may hold delimiters and line breaks.
 * - 'none' (the default for TSV): a quote is an ordinary character, as the GLUE loaders read their files
 *   with csv.QUOTE_NONE. MRPC's msr_paraphrase_*.txt has sentences such as `"Yes," he said` and
 *   unbalanced quotes, which RFC quoting would merge into neighbouring fields and rows. papaparse reads a
 *   line this way in its fastMode, forced on: lines split on the newline, fields on the delimiter.
 * Each row keeps the line it starts on (a quoted field can span lines); a row with the wrong number of
 * fields is a bad row, as it is for pandas.
 */
import Papa from 'papaparse';
import { DatasetFormatError } from './errors';
import { DatasetRowError, snippetOf } from './jsonl';
import {
  badRow,
  type DatasetRow,
  DEFAULT_MAX_LINE_LENGTH,
  hugeLineDetail,
  type ParsedRows,
  type ReadOptions,
} from './rows';

export type Quoting = 'csv' | 'none';

export interface DelimitedOptions extends ReadOptions {
  delimiter: ',' | '\t';
  /** Defaults to 'csv' for a comma and 'none' for a tab (see the file header). */
  quoting?: Quoting;
}

export interface DelimitedRows extends ParsedRows {
  columns: string[];
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function headerOf(fields: string[], file: string): string[] {
  const columns = fields.map((name, i) => name.trim() || `column${i + 1}`);
  const duplicates = columns.filter((name, i) => columns.indexOf(name) !== i);
  if (duplicates.length)
    throw new DatasetFormatError(
      `${file}: the header names ${[...new Set(duplicates)].map((c) => `"${c}"`).join(', ')} more than once; ` +
        'rename the columns so each is unique.',
    );
  return columns;
}

export function readDelimited(text: string, options: DelimitedOptions): DelimitedRows {
  const file = options.file ?? 'the dataset';
  const limit = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const quoting = options.quoting ?? (options.delimiter === '\t' ? 'none' : 'csv');
  const rows: DatasetRow[] = [];
  const badRows: DatasetRowError[] = [];
  let columns: string[] | undefined;
  let rowStart = 0; // character offset where the current row starts
  let line = 1; // the line at rowStart

  Papa.parse<string[]>(text, {
    delimiter: options.delimiter,
    fastMode: quoting === 'none' ? true : undefined,
    step(result) {
      const end = result.meta.cursor;
      const rowLine = line;
      const raw = text.slice(rowStart, end).replace(/\r?\n$/, '');
      line += countNewlines(text, rowStart, end);
      rowStart = end;
      const fields = result.data.map((field) => field.replace(/\r$/, ''));
      if (fields.length === 1 && fields[0]?.trim() === '') return; // a blank line, not a row of empty fields
      const fail = (detail: string) =>
        badRow(new DatasetRowError(rowLine, snippetOf(raw), detail, file), options, badRows);
      if (raw.length > limit) return fail(hugeLineDetail(raw.length, limit));
      const error = result.errors[0];
      if (error) return fail(`${error.message} (${error.code})`);
      if (!columns) {
        columns = headerOf(fields, file);
        return;
      }
      if (fields.length !== columns.length)
        return fail(`expected ${columns.length} fields, as the header has, but found ${fields.length}`);
      const value: Record<string, unknown> = {};
      columns.forEach((name, i) => {
        value[name] = fields[i];
      });
      rows.push({ line: rowLine, value });
    },
  });
  return { rows, badRows, columns: columns ?? [] };
}
