/**
 * Loaded examples to what the trainer consumes: TokenExample lists for training and validation.
 * Order of work: split the examples (seeded, or none when a validation file is given), tokenize each side
 * (chat template, prompt masking), then either truncate each example to the sequence length or, with
 * packing, concatenate them into full rows. Plain text read whole is cut into rows of the sequence length
 * first, and those rows are split. Counts of truncated and untrained examples come back for the report.
 */
import type { TokenExample } from '../batches';
import type { LoadedDataset } from './load-dataset';
import { chunkExample, packExamples } from './packing';
import { splitTrainValidation } from './split';
import { type DatasetTokenizer, type TokenizedExamples, tokenizeExamples } from './tokenize-examples';

export interface TrainingDataOptions {
  seqLen: number;
  eosTokenId?: number;
  /** Default true. */
  maskPrompt?: boolean;
  /** Default false. */
  packing?: boolean;
  /** Share held out for validation (default 0); ignored when `validation` is given. */
  validationFraction?: number;
  seed?: number;
  /** A separate validation file, loaded the same way. */
  validation?: LoadedDataset;
}

export interface TrainingData {
  train: TokenExample[];
  validation: TokenExample[];
  /** Examples cut to seqLen (0 with packing, which cuts rows, not examples). */
  truncated: number;
  untrained: number;
  boundaryMismatches: number;
  template: TokenizedExamples['template'];
}

export function prepareTrainingData(
  dataset: LoadedDataset,
  tokenizer: DatasetTokenizer,
  options: TrainingDataOptions,
): TrainingData {
  const packing = options.packing ?? false;
  const splitOptions = { validationFraction: options.validationFraction ?? 0, seed: options.seed ?? 0 };
  const side = (examples: LoadedDataset['examples'], whole: boolean) => {
    const tokenized = tokenizeExamples(examples, tokenizer, {
      maxLength: options.seqLen,
      maskPrompt: options.maskPrompt,
      eosTokenId: options.eosTokenId,
      truncate: !packing && !whole,
    });
    const rows: TokenExample[] = packing
      ? packExamples(tokenized.examples, options.seqLen, options.eosTokenId)
      : whole
        ? tokenized.examples.flatMap((e) => chunkExample(e, options.seqLen))
        : tokenized.examples.map(({ ids, labels }) => ({ ids, labels }));
    return { tokenized, rows };
  };
  const given = options.validation;
  const givenWhole = given?.textMode === 'whole';

  let train: ReturnType<typeof side>;
  let validation: ReturnType<typeof side> | undefined;
  let rows: { train: TokenExample[]; validation: TokenExample[] };
  if (dataset.textMode === 'whole') {
    // One example: cut it into rows first, so there is something to split.
    train = side(dataset.examples, true);
    validation = given && side(given.examples, givenWhole);
    rows = validation
      ? { train: train.rows, validation: validation.rows }
      : splitTrainValidation(train.rows, splitOptions);
  } else {
    const examples = given
      ? { train: dataset.examples, validation: given.examples }
      : splitTrainValidation(dataset.examples, splitOptions);
    train = side(examples.train, false);
    validation = side(examples.validation, givenWhole);
    rows = { train: train.rows, validation: validation.rows };
  }
  const t = train.tokenized;
  const v = validation?.tokenized;
  return {
    ...rows,
    truncated: t.truncated + (v?.truncated ?? 0),
    untrained: t.untrained + (v?.untrained ?? 0),
    boundaryMismatches: t.boundaryMismatches + (v?.boundaryMismatches ?? 0),
    template: t.template !== 'none' ? t.template : (v?.template ?? 'none'),
  };
}
