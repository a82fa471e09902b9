/**
 * JSON Lines reading with line numbers: every non-blank line must be a JSON object; a malformed row is
 * a `DatasetRowError` that names its line and shows the start of it.
 */

export class DatasetRowError extends Error {
  // A string, not the literal, so the kinds of bad row below can name themselves.
  override readonly name: string = 'DatasetRowError';
  constructor(
    readonly line: number,
    readonly snippet: string,
    readonly detail: string,
    readonly file = 'the dataset',
    /** What `line` counts: lines of a text file, or rows where a file has no lines (Parquet). */
    readonly unit: 'line' | 'row' = 'line',
  ) {
    super(`${file}, ${unit} ${line}: ${detail}: ${snippet}`);
  }
}

export interface JsonlRow {
  line: number;
  value: Record<string, unknown>;
}

export function snippetOf(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function parseJsonl(text: string, file?: string): JsonlRow[] {
  const rows: JsonlRow[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new DatasetRowError(line, snippetOf(raw), 'not valid JSON', file);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DatasetRowError(line, snippetOf(raw), 'expected a JSON object', file);
    }
    rows.push({ line, value: value as Record<string, unknown> });
  });
  return rows;
}

/** The "text" field of every row, as a string. */
export function textRows(rows: JsonlRow[], file?: string): { line: number; text: string }[] {
  return rows.map(({ line, value }) => {
    if (typeof value.text !== 'string') {
      throw new DatasetRowError(
        line,
        snippetOf(JSON.stringify(value)),
        'expected a string field "text"',
        file,
      );
    }
    return { line, text: value.text };
  });
}
