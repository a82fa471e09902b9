/**
 * The named errors of dataset reading, one per way a file can be wrong, each saying what to do about it.
 * A single bad row is a `DatasetRowError` (file, line or row, snippet), which can be skipped and counted;
 * the errors here are about the whole file and always stop the import.
 */
export { DatasetRowError } from './jsonl';
export { DatasetLabelError } from './labels';
export { DatasetLineTooLongError } from './rows';

/** The file has no bytes, only whitespace, or no rows after its header. */
export class EmptyDatasetError extends Error {
  override readonly name = 'EmptyDatasetError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} is empty: ${detail}. Choose a file with at least one example.`);
  }
}

/** The bytes are not UTF-8 text (a spreadsheet export in Latin-1 or UTF-16, or a binary file). */
export class DatasetEncodingError extends Error {
  override readonly name = 'DatasetEncodingError';
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    readonly line: number,
    encoding = 'not UTF-8',
  ) {
    super(
      `${file} is ${encoding} (first bad byte at offset ${byteOffset}, line ${line}). ` +
        'Save it as UTF-8 text and try again.',
    );
  }
}

/** The file is not in the format its name or content says, or not one Whetstone reads. */
export class DatasetFormatError extends Error {
  override readonly name = 'DatasetFormatError';
}

/** A schema field has no column: names the column that was wanted and the columns there are. */
export class MissingColumnError extends Error {
  override readonly name = 'MissingColumnError';
  constructor(
    readonly file: string,
    readonly column: string,
    readonly field: string,
    readonly schema: string,
    readonly present: readonly string[],
  ) {
    super(
      `${file} has no column "${column}" (the ${field} of the ${schema} schema); its columns are: ` +
        `${present.map((c) => `"${c}"`).join(', ') || 'none'}. Map one of them to ${field} by hand.`,
    );
  }
}

/** No schema fits the columns: the person has to choose one and map its columns. */
export class SchemaDetectionError extends Error {
  override readonly name = 'SchemaDetectionError';
  constructor(
    readonly file: string,
    readonly present: readonly string[],
  ) {
    super(
      `${file}: no known schema fits the columns ${present.map((c) => `"${c}"`).join(', ') || '(none)'}. ` +
        'Expected text; prompt/completion; instruction/input/output; messages; conversations; ' +
        'text/label; sentence1/sentence2/label; or chosen/rejected (with an optional prompt). Choose a schema and map its columns by hand.',
    );
  }
}

/** Examples that a task cannot train on, such as classification rows given to causal-LM training. */
export class DatasetTaskError extends Error {
  override readonly name = 'DatasetTaskError';
}
