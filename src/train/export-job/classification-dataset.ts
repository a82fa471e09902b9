/**
 * dataset/train.jsonl and dataset/validation.jsonl of an exported classification job: the rows the
 * browser's classifier run trains and validates on (classify/classifier-run-data.ts), split by the same
 * seeded split (jobSplit: splitTrainValidation with the run's seed, or the validation file), one row each,
 * in columns Whetstone's schema detection reads back (so the same file scores the result in the studio):
 *   {"text": ..., "label": "pos"}                               classification rows
 *   {"sentence1": ..., "sentence2": ..., "label": 0}            sentence pairs (sentence2 null if absent)
 * Labels stay as the file has them; the class ids are their places in Whetstone's label set (the training
 * file's labels sorted as HF datasets' class_encode_column sorts them: classificationLabelSet), which
 * train.py's LABELS lists in that order and maps each row's label through.
 * Splitting the rows before encoding picks the same rows as the classifier, which splits after encoding:
 * every training row has a label in the set, so encoding keeps them all, in order. A validation file's
 * labels outside the set are refused, or left out with skipBadRows, as the classifier does.
 */
import { classificationLabelSet } from '../classify/classification-data';
import type { Example } from '../data/examples';
import { type Label, labelIds } from '../data/labels';
import type { LoadedDataset } from '../data/load-dataset';
import { ExportJobError } from './errors';
import { type JobDatasetOptions, jobSplit } from './job-dataset';

type Classified = Extract<Example, { kind: 'classification' }>;

export interface ClassificationJobDataset {
  /** Class names by id. */
  labelSet: Label[];
  /** True when some row has a second text: train.py then tokenizes (sentence1, sentence2). */
  pairs: boolean;
  train: Classified[];
  validation: Classified[];
  trainJsonl: string;
  validationJsonl: string;
}

function classified(file: string, examples: readonly Example[]): Classified[] {
  const other = examples.find((e) => e.kind !== 'classification');
  if (other)
    throw new ExportJobError(
      `${file} was read as "${other.kind}" rows (line ${other.line}); a classifier job needs the ` +
        'classification (text, label) or sentence-pair (sentence1, sentence2, label) schema. Choose that ' +
        'schema and map its columns.',
    );
  return examples as Classified[];
}

export function classificationJobDataset(
  dataset: LoadedDataset,
  validation: LoadedDataset | undefined,
  options: JobDatasetOptions & { skipBadRows: boolean },
): ClassificationJobDataset {
  if (dataset.examples.length === 0) throw new ExportJobError(`${dataset.file} has no examples to export.`);
  classified(dataset.file, dataset.examples);
  const labelSet = classificationLabelSet(dataset);
  const split = jobSplit(dataset, validation, options);
  const train = classified(dataset.file, split.train);
  let held = classified(validation?.file ?? dataset.file, split.validation);
  if (validation)
    held = labelIds(held, { labelSet, file: validation.file, skipBadRows: options.skipBadRows }).kept;
  const pairs = [...train, ...held].some((e) => e.textPair !== undefined);
  const row = (e: Classified) =>
    pairs
      ? { sentence1: e.text, sentence2: e.textPair ?? null, label: e.label }
      : { text: e.text, label: e.label };
  const jsonl = (rows: Classified[]) => rows.map((e) => `${JSON.stringify(row(e))}\n`).join('');
  return {
    labelSet,
    pairs,
    train,
    validation: held,
    trainJsonl: jsonl(train),
    validationJsonl: jsonl(held),
  };
}
