/**
 * Parquet files (the Hugging Face hub's format for every dataset) through hyparquet, a pure-JS reader.
 * Values become what the JSON formats give: INT64 (bigint) as a number (a string past 2^53), dates as
 * ISO strings, lists and structs (a chat `messages` column) as arrays and objects. Rows are numbered
 * from 1. hyparquet decodes uncompressed and Snappy pages (pyarrow's default, and the hub's); other
 * codecs (gzip, zstd, brotli) are refused with a message naming the codec.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { DatasetFormatError, EmptyDatasetError } from './errors';
import type { DatasetRow, ReadOptions } from './rows';

export interface ParquetRows {
  rows: DatasetRow[];
  columns: string[];
}

function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainValue);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainValue(v)]));
  return value;
}

export async function readParquet(bytes: Uint8Array, options: ReadOptions = {}): Promise<ParquetRows> {
  const file = options.file ?? 'the dataset';
  if (bytes.length === 0) throw new EmptyDatasetError(file, 'it has no bytes');
  // hyparquet reads an ArrayBuffer; copy only when the bytes are a view into a larger one.
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.slice().buffer as ArrayBuffer);
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(buffer);
  } catch (error) {
    throw new DatasetFormatError(`${file} is not a readable Parquet file: ${(error as Error).message}.`);
  }
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  if (Number(metadata.num_rows) === 0) throw new EmptyDatasetError(file, 'the Parquet file has no rows');
  let objects: Record<string, unknown>[];
  try {
    objects = await parquetReadObjects({ file: buffer, metadata });
  } catch (error) {
    const message = (error as Error).message;
    const codec = /unsupported compression codec: (\w+)/.exec(message)?.[1];
    throw new DatasetFormatError(
      codec
        ? `${file} is compressed with ${codec}, which Whetstone cannot decompress yet; ` +
            're-save it with Snappy or no compression (pyarrow: compression="snappy").'
        : `${file}: the Parquet data could not be read: ${message}.`,
    );
  }
  const rows = objects.map((object, index) => ({
    line: index + 1,
    value: plainValue(object) as Record<string, unknown>,
  }));
  return { rows, columns };
}
