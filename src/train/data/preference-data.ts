/**
 * A loaded preference dataset to what the DPO trainer consumes: PreferencePair lists for training and
 * validation. The examples are split first, the same seeded way as prepareTrainingData (split.ts; none
 * when a validation file is given), then each side is tokenized as TRL's DPOTrainer does
 * (tokenize-preferences.ts), cut to seqLen, with pairs whose prompt fills seqLen dropped and counted.
 * A dataset of another schema is refused by name: DPO needs a chosen and a rejected response.
 */
import type { PreferencePair } from '../preference/pairs';
import { DatasetTaskError } from './errors';
import type { PreferenceExample } from './examples';
import type { LoadedDataset } from './load-dataset';
import { splitTrainValidation } from './split';
import type { DatasetTokenizer } from './tokenize-examples';
import { type TokenizedPreferences, tokenizePreferences } from './tokenize-preferences';

export interface PreferenceDataOptions {
  /** TRL's max_length: each side is cut to it. */
  seqLen: number;
  eosTokenId?: number;
  /** Share held out for validation (default 0); ignored when `validation` is given. */
  validationFraction?: number;
  seed?: number;
  /** A separate validation file, loaded the same way. */
  validation?: LoadedDataset;
}

export interface PreferenceData {
  train: PreferencePair[];
  validation: PreferencePair[];
  /** Pairs with a side cut to seqLen. */
  truncated: number;
  /** Pairs left out because their prompt alone fills seqLen. */
  dropped: number;
  boundaryMismatches: number;
  template: TokenizedPreferences['template'];
}

/** Whether a dataset holds preference pairs (the preference schema: chosen and rejected responses). */
export function isPreferenceDataset(dataset: LoadedDataset): boolean {
  return (
    dataset.schema.kind === 'preference' ||
    (dataset.examples.length > 0 && dataset.examples.every((e) => e.kind === 'preference'))
  );
}

/** The dataset's preference examples, or a DatasetTaskError naming the first row of another kind. */
export function preferenceExamplesOf(dataset: LoadedDataset): PreferenceExample[] {
  const other = dataset.examples.find((e) => e.kind !== 'preference');
  if (other)
    throw new DatasetTaskError(
      `${dataset.file} was read as "${other.kind}" rows (line ${other.line}); preference training (DPO) needs ` +
        'a chosen and a rejected response for each prompt. Choose the preference schema (prompt, chosen, ' +
        'rejected) and map its columns.',
    );
  return dataset.examples as PreferenceExample[];
}

export function preparePreferenceData(
  dataset: LoadedDataset,
  tokenizer: DatasetTokenizer,
  options: PreferenceDataOptions,
): PreferenceData {
  const examples = preferenceExamplesOf(dataset);
  const given = options.validation;
  const split = given
    ? { train: examples, validation: preferenceExamplesOf(given) }
    : splitTrainValidation(examples, {
        validationFraction: options.validationFraction ?? 0,
        seed: options.seed ?? 0,
      });
  const tokenize = (side: PreferenceExample[]) =>
    tokenizePreferences(side, tokenizer, { maxLength: options.seqLen, eosTokenId: options.eosTokenId });
  const t = tokenize(split.train);
  const v = tokenize(split.validation);
  const pairs = (tokenized: TokenizedPreferences): PreferencePair[] =>
    tokenized.pairs.map(({ chosen, rejected }) => ({ chosen, rejected }));
  return {
    train: pairs(t),
    validation: pairs(v),
    truncated: t.truncated + v.truncated,
    dropped: t.dropped + v.dropped,
    boundaryMismatches: t.boundaryMismatches + v.boundaryMismatches,
    template: t.template !== 'none' ? t.template : v.template,
  };
}
