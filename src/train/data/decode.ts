/**
 * Dataset bytes to text: strict UTF-8 (a BOM dropped, as Python's utf-8-sig and the WHATWG decoder do),
 * with a named error that gives the offset and line of the first bad byte, and an empty file refused
 * with its own message. Text formats are decoded here; Parquet reads the bytes directly.
 */
import { DatasetEncodingError, EmptyDatasetError } from './errors';

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    for (let k = 1; k < length; k++) if (((bytes[i + k] as number) & 0xc0) !== 0x80) return i;
    const second = bytes[i + 1] as number;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (b === 0xe0 && second < 0xa0) return i;
    if (b === 0xed && second > 0x9f) return i;
    if (b === 0xf0 && second < 0x90) return i;
    if (b === 0xf4 && second > 0x8f) return i;
    i += length;
  }
  return -1;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

export function decodeDatasetText(bytes: Uint8Array, file = 'the dataset'): string {
  if (bytes.length === 0) throw new EmptyDatasetError(file, 'it has no bytes');
  // A UTF-16 BOM: the common way a spreadsheet's "Unicode text" export arrives.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new DatasetEncodingError(file, 0, 1, 'UTF-16, not UTF-8');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    throw new DatasetEncodingError(file, offset, lineAt(bytes, offset));
  }
  if (text.trim() === '') throw new EmptyDatasetError(file, 'it holds only whitespace');
  return text;
}
