/**
 * A classification run's rows from its RunSpec, as `whetstone train --task classification` reads them: the
 * dataset file through the decoder runs' streaming loader (loadRunData: classification and sentence-pair
 * schemas, MRPC's TSV with Quality, #1 String, #2 String), the label set sorted as class_encode_column
 * sorts it (it sizes the head, so it is read before the model opens), every row encoded by the model's
 * PairEncoder truncated to the run's length, and the seeded split of the CLI (splitTrainValidation after
 * encoding) unless the spec gives validation examples. The same code rebuilds a finished run's validation
 * split to score another classifier on it.
 */

import type { Example } from '../data/examples';
import type { Label } from '../data/labels';
import type { LoadedDataset } from '../data/load-dataset';
import { splitTrainValidation } from '../data/split';
import { loadRunData, RunDataError } from '../worker/run-data';
import type { RunSpec } from '../worker/run-spec';
import {
  ClassificationDataError,
  classificationLabelSet,
  encodeClassificationData,
} from './classification-data';
import type { ClassificationExample } from './classifier-trainer';
import type { PairEncoder } from './pair-encoder';

/** What the split needs of a spec (an EvaluationData's spec has no model files or method). */
export type ClassificationDataSpec = Pick<RunSpec, 'train' | 'data' | 'trainTexts' | 'validationTexts'>;

export interface ClassificationRows {
  dataset: LoadedDataset;
  validationDataset?: LoadedDataset;
  /** The training file's label set, in class-id order. */
  labelSet: Label[];
  validationFraction: number;
  skipBadRows: boolean;
}

export interface ClassificationSplit {
  train: ClassificationExample[];
  validation: ClassificationExample[];
  labelSet: Label[];
  /** Rows whose tokens were cut to the run's length. */
  truncated: number;
  /** The longest encoded row of either side: every batch is planned at this length. */
  T: number;
}

function asDataset(file: string, examples: Example[]): LoadedDataset {
  return {
    file,
    format: 'tsv',
    columns: [],
    schema: { kind: 'classification', columns: {} },
    schemaDetected: true,
    rows: examples.length,
    badRows: [],
    examples,
  };
}

/** Reads the spec's file (or examples) and its label set; plain texts have no labels and are refused. */
export async function readClassificationRows(spec: ClassificationDataSpec): Promise<ClassificationRows> {
  if (!spec.data)
    throw new RunDataError(
      'A classification run needs a classification or sentence-pair dataset (text and label columns); plain texts have no labels.',
    );
  const file = spec.data.file;
  const loaded = await loadRunData({ ...spec, modelFiles: {}, modelName: '', method: { method: 'full' } });
  const examples = loaded.data?.examples ?? [];
  if (examples.length === 0) throw new RunDataError('The dataset has no examples: add some rows first.');
  const name = file?.fileName ?? 'the studio dataset';
  const other = examples.find((e) => e.kind !== 'classification');
  if (other)
    throw new ClassificationDataError(
      `${name} was read as "${other.kind}" rows (line ${other.line}); a classification run needs the classification (text, label) or sentence-pair (sentence1, sentence2, label) schema. Choose that schema and map its columns.`,
    );
  const dataset = asDataset(name, examples);
  const validationExamples = spec.data.validationExamples;
  return {
    dataset,
    ...(validationExamples?.length
      ? { validationDataset: asDataset(`${name} (validation)`, validationExamples) }
      : {}),
    labelSet: classificationLabelSet(dataset),
    validationFraction: spec.data.validationFraction ?? 0,
    skipBadRows: file?.skipBadRows ?? false,
  };
}

/** Encodes the rows with `labelSet`'s class ids and splits them as the CLI does. */
export function encodeClassificationSplit(
  rows: ClassificationRows,
  encoder: PairEncoder,
  options: { maxLength: number; seed: number; labelSet?: Label[] },
): ClassificationSplit {
  const labelSet = options.labelSet ?? rows.labelSet;
  const encode = (dataset: LoadedDataset) =>
    encodeClassificationData(dataset, encoder, {
      maxLength: options.maxLength,
      labelSet,
      skipBadRows: rows.skipBadRows,
    });
  const encoded = encode(rows.dataset);
  let train = encoded.examples;
  let validation = rows.validationDataset ? encode(rows.validationDataset).examples : [];
  if (!rows.validationDataset && rows.validationFraction > 0) {
    const split = splitTrainValidation(train, {
      validationFraction: rows.validationFraction,
      seed: options.seed,
    });
    train = split.train;
    validation = split.validation;
  }
  if (train.length === 0) throw new RunDataError('No training rows are left after the validation split.');
  const T = Math.max(...[...train, ...validation].map((e) => e.ids.length));
  return { train, validation, labelSet, truncated: encoded.truncated, T };
}
