/**
 * The dataset flags `data`, `train` and `eval` share, and reading a dataset file as the app does: any
 * format (JSONL, JSON array, CSV, TSV, Parquet, plain text), any schema (detected, or --schema with
 * --columns field=column,...), streamed from disk (src/train/data/stream) with progress on stderr for
 * large files, then tokenized with the model's chat template and prompt masking (prepareTrainingData).
 *   --schema text|prompt-completion|alpaca|chat|sharegpt|classification|sentence-pair|preference
 *   --columns field=column,...   map the schema's fields to columns by hand
 *   --format jsonl|json|csv|tsv|parquet|text   override detection
 *   --text-mode blocks|lines|whole   plain text: one example per blank-line block (default), per line,
 *                                    or the whole text cut into rows of --seq-len
 *   --skip-bad-rows   leave malformed rows out and count them, instead of stopping at the first
 *   --max-line-mib N  a line longer than this is a bad row (default 64)
 *   --no-mask-prompt  train on prompt tokens too (by default only completions and assistant turns)
 *   --packing         concatenate examples into full rows of --seq-len
 *   --validation FILE | --validation-fraction X   a validation file, or a seeded share held out
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { DatasetFormat } from '../train/data/formats';
import type { LoadDatasetOptions, LoadedDataset } from '../train/data/load-dataset';
import type { PlainTextMode } from '../train/data/plain-text';
import { SCHEMA_FIELDS, type SchemaKind, type SchemaOverride } from '../train/data/schema';
import { loadDatasetStream } from '../train/data/stream/load-stream';
import type { DatasetTokenizer } from '../train/data/tokenize-examples';
import { prepareTrainingData, type TrainingData } from '../train/data/training-data';
import { numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

export type DatasetFlags = Partial<Record<string, string | boolean>>;

const formats: DatasetFormat[] = ['jsonl', 'json', 'csv', 'tsv', 'parquet', 'text'];
const textModes: PlainTextMode[] = ['blocks', 'lines', 'whole'];

function oneOf<T extends string>(value: unknown, name: string, options: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!options.includes(value as T))
    throw new CliUsageError(`--${name} must be one of ${options.join(', ')}.`);
  return value as T;
}

function schemaOf(flags: DatasetFlags): SchemaOverride | undefined {
  const kind = oneOf(flags.schema, 'schema', Object.keys(SCHEMA_FIELDS) as SchemaKind[]);
  if (typeof flags.columns !== 'string') return kind && { kind };
  if (!kind) throw new CliUsageError('--columns maps the fields of a schema: give --schema too.');
  const columns: Record<string, string> = {};
  for (const pair of flags.columns.split(',')) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at).trim();
    if (at < 1 || !(field in SCHEMA_FIELDS[kind]))
      throw new CliUsageError(
        `--columns ${pair}: write field=column, the fields of ${kind} being ${Object.keys(SCHEMA_FIELDS[kind]).join(', ')}.`,
      );
    columns[field] = pair.slice(at + 1);
  }
  return { kind, columns };
}

/** How to read the file(s): format, schema, plain-text mode, bad rows, line limit. */
export function datasetOptionsOf(flags: DatasetFlags): LoadDatasetOptions {
  const schema = schemaOf(flags);
  const format = oneOf(flags.format, 'format', formats);
  const textMode = oneOf(flags['text-mode'], 'text-mode', textModes);
  const maxLineMib = numberFlag(flags['max-line-mib'], 'max-line-mib', 64, (n) => n > 0);
  return {
    ...(schema ? { schema } : {}),
    ...(format ? { format } : {}),
    ...(textMode ? { textMode } : {}),
    skipBadRows: flags['skip-bad-rows'] === true,
    maxLineBytes: Math.round(maxLineMib * 1024 * 1024),
  };
}

/** Files this large get progress lines on stderr as they are read. */
const PROGRESS_FROM_BYTES = 32 * 1024 * 1024;

/** Reads a dataset file from disk through the streaming loader; the name in messages is the path given. */
export async function readDatasetFile(path: string, options: LoadDatasetOptions): Promise<LoadedDataset> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliUsageError(`${path}: no such file.`);
  const totalBytes = statSync(path).size;
  let shown = 0;
  return loadDatasetStream(path, createReadStream(path), {
    ...options,
    totalBytes,
    onProgress: ({ bytesRead }) => {
      if (totalBytes < PROGRESS_FROM_BYTES) return;
      const tenth = Math.floor((10 * bytesRead) / totalBytes);
      if (tenth <= shown) return;
      shown = tenth;
      const mb = (n: number) => (n / 1e6).toFixed(0);
      process.stderr.write(
        `reading ${basename(path)}: ${10 * tenth}% (${mb(bytesRead)} of ${mb(totalBytes)} MB)\n`,
      );
    },
  });
}

export interface CliDatasets {
  dataset: LoadedDataset;
  validationDataset?: LoadedDataset;
  validationFraction: number;
  maskPrompt: boolean;
  packing: boolean;
}

export interface CliTrainingData extends TrainingData, CliDatasets {}

/**
 * Reads --data (and --validation) before any model is loaded, so a bad file fails fast. Skipped bad
 * rows are said on stderr.
 */
export async function readDatasetsFromFlags(
  flags: DatasetFlags,
  allowValidation: boolean,
): Promise<CliDatasets> {
  if (typeof flags.data !== 'string') throw new CliUsageError('--data FILE is required.');
  if (!allowValidation && (flags.validation !== undefined || flags['validation-fraction'] !== undefined))
    throw new CliUsageError(
      '--validation and --validation-fraction belong to train; eval reads only --data.',
    );
  if (flags.validation !== undefined && flags['validation-fraction'] !== undefined)
    throw new CliUsageError('Give --validation FILE or --validation-fraction X, not both.');
  const validationFraction = numberFlag(
    flags['validation-fraction'],
    'validation-fraction',
    0,
    (n) => n >= 0 && n < 1,
  );
  const readOptions = datasetOptionsOf(flags);
  const dataset = await readDatasetFile(flags.data, readOptions);
  const validationDataset =
    typeof flags.validation === 'string' ? await readDatasetFile(flags.validation, readOptions) : undefined;
  for (const loaded of [dataset, validationDataset]) {
    const first = loaded?.badRows[0];
    if (loaded && first)
      process.stderr.write(
        `whetstone: skipped ${loaded.badRows.length} bad rows of ${loaded.file}; the first: ${first.message}\n`,
      );
  }
  return {
    dataset,
    validationDataset,
    validationFraction,
    maskPrompt: flags['no-mask-prompt'] !== true,
    packing: flags.packing === true,
  };
}

/**
 * The training and validation token examples: the split (seeded) or the validation file, the model's
 * chat template, prompt masking, truncation or packing. Truncated and untrained counts go to stderr.
 */
export function prepareCliTrainingData(
  read: CliDatasets,
  tokenizer: DatasetTokenizer,
  options: { seqLen: number; eosTokenId?: number; seed: number },
): CliTrainingData {
  const data = prepareTrainingData(read.dataset, tokenizer, {
    seqLen: options.seqLen,
    eosTokenId: options.eosTokenId,
    maskPrompt: read.maskPrompt,
    packing: read.packing,
    validationFraction: read.validationFraction,
    seed: options.seed,
    validation: read.validationDataset,
  });
  if (data.truncated > 0)
    process.stderr.write(
      `whetstone: ${data.truncated} examples were truncated to ${options.seqLen} tokens.\n`,
    );
  if (data.untrained > 0)
    process.stderr.write(
      `whetstone: ${data.untrained} examples have no trained token left (the prompt fills the sequence length); ` +
        'they add nothing to the loss.\n',
    );
  return { ...data, ...read };
}

/** What train and eval add to their --json summary about the data. */
export function dataReport(data: CliTrainingData): Record<string, unknown> {
  return {
    data_format: data.dataset.format,
    schema: data.dataset.schema.kind,
    template: data.template,
    mask_prompt: data.maskPrompt,
    packing: data.packing,
    train_rows: data.train.length,
    validation_rows: data.validation.length,
    bad_rows: data.dataset.badRows.length + (data.validationDataset?.badRows.length ?? 0),
    truncated: data.truncated,
    untrained: data.untrained,
    // Labels that enter the loss: the model predicts token t from those before it, so never the first.
    trained_tokens: data.train.reduce(
      (n, e) => n + (e.labels ?? e.ids).slice(1).filter((l) => l !== -100).length,
      0,
    ),
  };
}
