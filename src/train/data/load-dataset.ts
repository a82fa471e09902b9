/**
 * A dataset file to examples in one call: read the rows (formats.ts), choose the schema (detected, or
 * the person's, with their column mapping; schema.ts) and turn rows into examples (examples.ts). Bad
 * rows from reading and from the schema are reported together; with `skipBadRows` they are counted
 * and left out, otherwise the first stops the load.
 */
import { type Example, toExamples } from './examples';
import { type DatasetFormat, type RawDataset, type ReadDatasetOptions, readDataset } from './formats';
import type { DatasetRowError } from './jsonl';
import type { PlainTextMode } from './plain-text';
import { detectSchema, resolveSchema, type SchemaChoice, type SchemaOverride } from './schema';

export interface LoadDatasetOptions extends ReadDatasetOptions {
  /** The person's schema and column mapping; detected from the columns when absent. */
  schema?: SchemaOverride;
}

export interface LoadedDataset {
  file: string;
  format: DatasetFormat;
  columns: string[];
  schema: SchemaChoice;
  /** Whether the schema was detected (false: the person chose it). */
  schemaDetected: boolean;
  /** Rows read, good and bad. */
  rows: number;
  badRows: DatasetRowError[];
  examples: Example[];
  textMode?: PlainTextMode;
}

export async function loadDataset(
  fileName: string,
  bytes: Uint8Array,
  options: LoadDatasetOptions = {},
): Promise<LoadedDataset> {
  return examplesOf(await readDataset(fileName, bytes, options), options);
}

/** Read rows to examples: the schema chosen (or detected) and applied. Shared with stream/load-stream.ts. */
export function examplesOf(raw: RawDataset, options: LoadDatasetOptions = {}): LoadedDataset {
  const schema = options.schema
    ? resolveSchema(raw.columns, options.schema, raw.file)
    : detectSchema(raw.columns, raw.file);
  const { examples, badRows } = toExamples(raw, schema, options);
  return {
    file: raw.file,
    format: raw.format,
    columns: raw.columns,
    schema,
    schemaDetected: !options.schema,
    rows: raw.rows.length + raw.badRows.length,
    badRows: [...raw.badRows, ...badRows],
    examples,
    textMode: raw.textMode,
  };
}
