/**
 * JSON Lines (one object per line, blank lines allowed) and JSON arrays of objects (Alpaca's
 * alpaca_data.json), both with the 1-based line each row starts on, so a bad row can be found in an
 * editor. The lines of a JSON array's elements come from a small scan of the top level, since
 * JSON.parse gives no positions.
 */
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

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * One line of a JSON Lines file into `rows`, or a bad row (thrown, or kept when skipping): shared by the
 * whole-file reader below and the streaming one (stream/stream-rows.ts). `overBytes` is set by a caller
 * that has already measured the line past the limit; otherwise it is measured here.
 */
export function addJsonLine(
  raw: string,
  line: number,
  options: ReadOptions,
  into: ParsedRows,
  overBytes?: number,
): void {
  const file = options.file ?? 'the dataset';
  if (overBytes === undefined && raw.trim() === '') return;
  const limit = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const bytes = overBytes ?? overLineLimit(raw, limit);
  if (bytes !== undefined) {
    badRow(new DatasetLineTooLongError(line, snippetOf(raw), bytes, limit, file), options, into.badRows);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    badRow(new DatasetRowError(line, snippetOf(raw), 'not valid JSON', file), options, into.badRows);
    return;
  }
  if (!isObject(value)) {
    badRow(new DatasetRowError(line, snippetOf(raw), 'expected a JSON object', file), options, into.badRows);
    return;
  }
  into.rows.push({ line, value });
}

export function readJsonLines(text: string, options: ReadOptions = {}): ParsedRows {
  const parsed: ParsedRows = { rows: [], badRows: [] };
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
    start = end + 1;
    addJsonLine(raw, line, options, parsed);
  }
  return parsed;
}

/** The line each element of a top-level JSON array starts on; `text` must already parse as an array. */
export function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    // A raw newline cannot occur inside a JSON string, so every one is a line break.
    if (c === '\n') {
      line++;
      continue;
    }
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

/** JSON.parse's message carries the character position of a syntax error; turn it into a line. */
function syntaxErrorRow(text: string, error: unknown, file: string): DatasetRowError {
  const message = error instanceof Error ? error.message : String(error);
  const position = Number(/position (\d+)/.exec(message)?.[1] ?? 0);
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  let lineEnd = text.indexOf('\n', position);
  if (lineEnd === -1) lineEnd = text.length;
  const line = text.slice(0, lineStart).split('\n').length;
  return new DatasetRowError(
    line,
    snippetOf(text.slice(lineStart, lineEnd).trim()),
    `not valid JSON (${message})`,
    file,
  );
}

export function readJsonArray(text: string, options: ReadOptions = {}): ParsedRows {
  const file = options.file ?? 'the dataset';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // One syntax error breaks the whole array, so it cannot be skipped as a row.
    throw syntaxErrorRow(text, error, file);
  }
  if (!Array.isArray(parsed)) {
    const nested = isObject(parsed) ? Object.keys(parsed).filter((k) => Array.isArray(parsed[k])) : [];
    throw new DatasetFormatError(
      `${file} is a single JSON object${nested.length ? `, with rows perhaps under "${nested.join('", "')}"` : ''}. ` +
        'Whetstone reads a JSON array of row objects, or JSON Lines (one object per line).',
    );
  }
  const lines = arrayElementLines(text);
  const rows: DatasetRow[] = [];
  const badRows: DatasetRowError[] = [];
  parsed.forEach((value: unknown, index) => {
    const line = lines[index] ?? 1;
    if (isObject(value)) rows.push({ line, value });
    else
      badRow(
        new DatasetRowError(
          line,
          snippetOf(JSON.stringify(value) ?? String(value)),
          'expected a JSON object',
          file,
        ),
        options,
        badRows,
      );
  });
  return { rows, badRows };
}
