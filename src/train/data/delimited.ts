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
  DatasetLineTooLongError,
  type DatasetRow,
  DEFAULT_MAX_LINE_BYTES,
  overLineLimit,
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

/**
 * Records into rows, one at a time: the first non-blank record is the header, each later one a row or
 * a bad row. Shared by the whole-file reader below and the streaming one (stream/stream-rows.ts), so
 * both judge a record the same way. `overBytes`: the caller measured the record past the limit.
 */
export class DelimitedRowBuilder implements DelimitedRows {
  readonly rows: DatasetRow[] = [];
  readonly badRows: DatasetRowError[] = [];
  private header?: string[];
  private readonly file: string;
  private readonly limit: number;

  constructor(private readonly options: DelimitedOptions) {
    this.file = options.file ?? 'the dataset';
    this.limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  get columns(): string[] {
    return this.header ?? [];
  }

  add(
    fields: string[],
    raw: string,
    line: number,
    error?: { message: string; code: string },
    overBytes?: number,
  ): void {
    const { file, options } = this;
    if (overBytes === undefined && fields.length === 1 && fields[0]?.trim() === '') return; // a blank line
    const bytes = overBytes ?? overLineLimit(raw, this.limit);
    if (bytes !== undefined) {
      badRow(
        new DatasetLineTooLongError(line, snippetOf(raw), bytes, this.limit, file),
        options,
        this.badRows,
      );
      return;
    }
    const fail = (detail: string) =>
      badRow(new DatasetRowError(line, snippetOf(raw), detail, file), options, this.badRows);
    if (error) {
      fail(`${error.message} (${error.code})`);
      return;
    }
    if (!this.header) {
      this.header = headerOf(fields, file);
      return;
    }
    const columns = this.header;
    if (fields.length !== columns.length) {
      fail(`expected ${columns.length} fields, as the header has, but found ${fields.length}`);
      return;
    }
    const value: Record<string, unknown> = {};
    columns.forEach((name, i) => {
      value[name] = fields[i];
    });
    this.rows.push({ line, value });
  }
}

export function quotingOf(options: DelimitedOptions): Quoting {
  return options.quoting ?? (options.delimiter === '\t' ? 'none' : 'csv');
}

/**
 * Parses `text` (whole records only) into `builder`, its first line being `firstLine` of the file. The
 * whole-file reader passes the file; the streaming reader passes batches of complete records.
 */
export function parseRecords(
  text: string,
  firstLine: number,
  builder: DelimitedRowBuilder,
  options: DelimitedOptions,
): void {
  let rowStart = 0; // character offset where the current row starts
  let line = firstLine; // the line at rowStart
  Papa.parse<string[]>(text, {
    delimiter: options.delimiter,
    fastMode: quotingOf(options) === 'none' ? true : undefined,
    step(result) {
      const end = result.meta.cursor;
      const rowLine = line;
      const raw = text.slice(rowStart, end).replace(/\r?\n$/, '');
      line += countNewlines(text, rowStart, end);
      rowStart = end;
      const fields = result.data.map((field) => field.replace(/\r$/, ''));
      builder.add(fields, raw, rowLine, result.errors[0]);
    },
  });
}

export function readDelimited(text: string, options: DelimitedOptions): DelimitedRows {
  const builder = new DelimitedRowBuilder(options);
  parseRecords(text, 1, builder, options);
  return { rows: builder.rows, badRows: builder.badRows, columns: builder.columns };
}
