/**
 * The line-based formats read from a stream of lines (line-reader.ts), one line at a time, giving the
 * same RawDataset the whole-file readers in formats.ts give for the same bytes:
 * - JSON Lines: each line through addJsonLine (json.ts), the whole-file reader's own per-line step;
 * - CSV and TSV: lines gathered into records (with RFC quoting a quoted field may span lines; the record
 *   ends when the quotes close); CSV records are parsed by papaparse in batches of whole records, TSV
 *   lines split on tabs (papaparse's fastMode), each row judged by the same DelimitedRowBuilder;
 * - plain text: lines, blocks or the whole text, as plain-text.ts reads them (a lone CR is a line break
 *   there too, so such lines are split and numbered as that reader numbers them).
 * JSON arrays and Parquet need the whole file and are not read here (see load-stream.ts).
 */
import { DelimitedRowBuilder, parseRecords, type Quoting, quotingOf } from '../delimited';
import { EmptyDatasetError } from '../errors';
import { checkHasRows, type DatasetFormat, type RawDataset } from '../formats';
import { addJsonLine } from '../json';
import type { PlainTextMode } from '../plain-text';
import {
  columnsOf,
  type DatasetRow,
  DEFAULT_MAX_LINE_BYTES,
  type ParsedRows,
  type ReadOptions,
} from '../rows';
import type { StreamLine } from './line-reader';

/** Characters of complete CSV records handed to papaparse at once. */
const BATCH_CHARS = 1 << 20;

export type StreamedFormat = Exclude<DatasetFormat, 'json' | 'parquet'>;

export interface StreamRowsOptions extends Omit<ReadOptions, 'file'> {
  textMode?: PlainTextMode;
  quoting?: Quoting;
}

/** Whether a CSV record is still inside a quoted field after `text` (RFC 4180: a quote opens a field only at its start). */
function stillQuoted(text: string, inQuotes: boolean, delimiter: string): boolean {
  let fieldStart = !inQuotes;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === '"' && fieldStart) {
      inQuotes = true;
      fieldStart = false;
      continue;
    }
    fieldStart = c === delimiter;
  }
  return inQuotes;
}

async function delimitedRows(
  lines: AsyncIterable<StreamLine[]>,
  file: string,
  delimiter: ',' | '\t',
  options: StreamRowsOptions,
): Promise<{ rows: DatasetRow[]; badRows: ParsedRows['badRows']; columns: string[]; content: boolean }> {
  const delimitedOptions = { ...options, file, delimiter };
  const builder = new DelimitedRowBuilder(delimitedOptions);
  const quoted = quotingOf(delimitedOptions) === 'csv';
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let content = false;
  // The record being gathered: its text so far (with the line ends inside it), first line, size.
  let record = '';
  let recordLine = 0;
  let recordBytes = 0;
  let recordOver = false;
  let inQuotes = false;
  let pendingEol = '';

  // Complete records wait in a batch that papaparse parses at once (one call per record is ~10x slower).
  let batch = '';
  let batchLine = 0;
  const parseBatch = () => {
    if (batch) parseRecords(batch, batchLine, builder, delimitedOptions);
    batch = '';
    batchLine = 0;
  };

  const flush = (eol: string) => {
    if (!recordLine) return;
    if (recordOver) {
      parseBatch();
      builder.add([record], record, recordLine, undefined, recordBytes);
    } else if (!quoted) builder.add(record.split(delimiter), record, recordLine);
    else {
      if (!batch) batchLine = recordLine;
      batch += record + eol;
      if (batch.length >= BATCH_CHARS) parseBatch();
    }
    record = '';
    recordLine = 0;
    recordBytes = 0;
    recordOver = false;
  };

  for await (const lineBatch of lines)
    for (const line of lineBatch) {
      if (line.text.trim() !== '' || line.overLimitBytes !== undefined) content = true;
      if (!recordLine) {
        recordLine = line.line;
        record = line.text;
      } else if (!recordOver) record += pendingEol + line.text;
      recordBytes += line.bytes + (recordLine === line.line ? 0 : pendingEol.length);
      if (line.overLimitBytes !== undefined || recordBytes > limit) recordOver = true;
      pendingEol = line.eol;
      inQuotes = quoted && !recordOver && stillQuoted(line.text, inQuotes, delimiter);
      if (!inQuotes) flush(line.eol);
    }
  flush(''); // an unclosed quote runs to the end of the file, where papaparse reports it
  parseBatch();
  return { rows: builder.rows, badRows: builder.badRows, columns: builder.columns, content };
}

async function plainTextRows(
  lines: AsyncIterable<StreamLine[]>,
  mode: PlainTextMode,
): Promise<{ rows: DatasetRow[]; content: boolean }> {
  const rows: DatasetRow[] = [];
  let content = false;
  let whole = '';
  let block: string[] = [];
  let blockLine = 0;
  let shift = 0; // lines added by lone CRs, which plain-text.ts counts as line breaks
  const flush = () => {
    if (block.length) rows.push({ line: blockLine, value: { text: block.join('\n') } });
    block = [];
  };
  for await (const lineBatch of lines)
    for (const streamLine of lineBatch) {
      const parts = streamLine.text.split('\r');
      parts.forEach((raw, j) => {
        const line = streamLine.line + shift + j;
        const blank = raw.trim() === '';
        if (!blank) content = true;
        if (mode === 'whole') whole += j < parts.length - 1 ? `${raw}\n` : raw;
        else if (mode === 'lines') {
          if (!blank) rows.push({ line, value: { text: raw } });
        } else if (blank) flush();
        else {
          if (!block.length) blockLine = line;
          block.push(raw);
        }
      });
      shift += parts.length - 1;
      if (mode === 'whole' && streamLine.eol) whole += '\n';
    }
  flush();
  if (mode === 'whole') rows.push({ line: 1, value: { text: whole } });
  return { rows, content };
}

/** The rows of a line-based format from its lines; the same checks for emptiness as readDataset. */
export async function streamRawDataset(
  file: string,
  format: StreamedFormat,
  lines: AsyncIterable<StreamLine[]>,
  options: StreamRowsOptions = {},
): Promise<RawDataset> {
  const read = { ...options, file };
  let dataset: RawDataset;
  let content: boolean;
  if (format === 'text') {
    const textMode = options.textMode ?? 'blocks';
    const text = await plainTextRows(lines, textMode);
    content = text.content;
    dataset = { file, format, unit: 'line', columns: ['text'], rows: text.rows, badRows: [], textMode };
  } else if (format === 'csv' || format === 'tsv') {
    const {
      rows,
      badRows,
      columns,
      content: any,
    } = await delimitedRows(lines, file, format === 'csv' ? ',' : '\t', options);
    content = any;
    if (content && !columns.length) throw new EmptyDatasetError(file, 'it has no header row');
    dataset = { file, format, unit: 'line', columns, rows, badRows };
  } else {
    const parsed: ParsedRows = { rows: [], badRows: [] };
    content = false;
    for await (const lineBatch of lines)
      for (const line of lineBatch) {
        if (line.text.trim() !== '' || line.overLimitBytes !== undefined) content = true;
        addJsonLine(line.text, line.line, read, parsed, line.overLimitBytes);
      }
    dataset = { file, format, unit: 'line', columns: columnsOf(parsed.rows), ...parsed };
  }
  if (!content) throw new EmptyDatasetError(file, 'it holds only whitespace');
  return checkHasRows(dataset);
}
