/**
 * A loaded dataset (src/train/data: classification or sentence-pair schema, e.g. MRPC's TSV with Quality,
 * #1 String, #2 String) to encoded classification examples: labels to class ids (the label set given, or
 * the data's, sorted as HF datasets' class_encode_column), and each text or pair through the model's
 * tokenizer with truncation to maxLength. Rows of another schema are refused by name.
 */

import { type Label, labelIds, labelSetOf } from '../data/labels';
import type { LoadedDataset } from '../data/load-dataset';
import type { ClassificationExample } from './classifier-trainer';
import type { PairEncoder } from './pair-encoder';

export class ClassificationDataError extends Error {
  override readonly name = 'ClassificationDataError';
}

export interface EncodedClassificationData {
  examples: ClassificationExample[];
  labelSet: Label[];
  /** Examples whose tokens were cut to maxLength. */
  truncated: number;
  /** Rows left out for a label outside the set (with --skip-bad-rows). */
  badLabels: number;
}

type Classified = Extract<LoadedDataset['examples'][number], { kind: 'classification' }>;

function classifiedRows(dataset: LoadedDataset): Classified[] {
  const classified = dataset.examples.filter((e): e is Classified => e.kind === 'classification');
  if (classified.length === 0 || classified.length !== dataset.examples.length) {
    throw new ClassificationDataError(
      `${dataset.file} was read as "${dataset.schema.kind}" rows; classification needs the classification ` +
        '(text, label) or sentence-pair (sentence1, sentence2, label) schema. Pass --schema and --columns to map them.',
    );
  }
  return classified;
}

/** The data's label set, sorted as class_encode_column sorts it; at least two classes. */
export function classificationLabelSet(dataset: LoadedDataset): Label[] {
  const set = labelSetOf(classifiedRows(dataset));
  if (set.length < 2)
    throw new ClassificationDataError(
      `${dataset.file} has ${set.length} distinct label(s); a classifier needs at least 2.`,
    );
  return set;
}

export function encodeClassificationData(
  dataset: LoadedDataset,
  encoder: PairEncoder,
  options: { maxLength: number; labelSet?: Label[]; skipBadRows?: boolean },
): EncodedClassificationData {
  const classified = classifiedRows(dataset);
  const ids = labelIds(classified, {
    ...(options.labelSet ? { labelSet: options.labelSet } : {}),
    file: dataset.file,
    skipBadRows: options.skipBadRows,
  });
  let truncated = 0;
  const examples = ids.kept.map((example, i) => {
    const untruncated = encoder.encode(example.text, example.textPair, Number.MAX_SAFE_INTEGER);
    const encoded = encoder.encode(example.text, example.textPair, options.maxLength);
    if (encoded.ids.length < untruncated.ids.length) truncated += 1;
    return { ...encoded, label: ids.ids[i] as number };
  });
  return { examples, labelSet: ids.labelSet, truncated, badLabels: ids.badRows.length };
}
