/**
 * A run's examples as the trainer consumes them (TokenExample rows), tokenized with the run's own
 * model. The data pipeline's examples go through prepareTrainingData (chat template, prompt masking,
 * truncation or packing, the seeded split); plain texts are each one example cut to the sequence length.
 * A dataset file in the spec is read first (`loadRunData`, with the CLI's streaming loader), so a studio
 * run and `whetstone train` on the same file and settings train on the same token rows and labels.
 * A DPO run (`train.preference`) takes preference pairs instead (`runPairs`: preparePreferenceData, TRL's
 * tokenization, the same seeded split); a dataset without them is refused by name.
 */
import type { TokenExample } from '../batches';
import type { Example } from '../data/examples';
import type { LoadedDataset } from '../data/load-dataset';
import { preparePreferenceData } from '../data/preference-data';
import { loadDatasetStream } from '../data/stream/load-stream';
import { tokenizeText } from '../data/text-batches';
import { prepareTrainingData } from '../data/training-data';
import type { PreferencePair } from '../preference/pairs';
import type { ModelTokenizer } from '../text/tokenizer';
import type { RunData, RunSpec } from './run-spec';

export class RunDataError extends Error {
  override readonly name = 'RunDataError';
}

/** A DPO run on data without preference pairs (a prompt with a chosen and a rejected response). */
export class PreferenceDataError extends Error {
  override readonly name = 'PreferenceDataError';
}

export interface RunExamples {
  train: TokenExample[];
  validation: TokenExample[];
}

export interface RunPairs {
  train: PreferencePair[];
  validation: PreferencePair[];
}

/** The pipeline reads only the examples and the text mode of a loaded dataset. */
function asDataset(examples: Example[], textMode: RunData['textMode']): LoadedDataset {
  return {
    file: 'studio dataset',
    format: 'jsonl',
    columns: [],
    schema: { kind: 'text', columns: {} },
    schemaDetected: true,
    rows: examples.length,
    badRows: [],
    examples,
    ...(textMode ? { textMode } : {}),
  };
}

/**
 * The spec with its dataset file read into examples (the file's own text mode kept); a spec without a
 * file comes back as it is. Bad rows throw the loader's named errors (DatasetRowError with the line)
 * unless the person chose to skip them.
 */
export async function loadRunData(spec: RunSpec): Promise<RunSpec> {
  const data = spec.data;
  if (!data?.file) return spec;
  const { file, ...settings } = data;
  const loaded = await loadDatasetStream(file.fileName, file.blob, {
    ...(file.schema ? { schema: file.schema } : {}),
    skipBadRows: file.skipBadRows ?? false,
    ...(settings.textMode ? { textMode: settings.textMode } : {}),
  });
  const textMode = loaded.textMode ?? settings.textMode;
  return {
    ...spec,
    data: { ...settings, examples: loaded.examples, ...(textMode ? { textMode } : {}) },
  };
}

export function runExamples(spec: RunSpec, tokenizer: ModelTokenizer, eosTokenId?: number): RunExamples {
  const seqLen = spec.train.seqLen;
  if (spec.data) {
    const d = spec.data;
    if (!d.examples)
      throw new RunDataError('The dataset file has not been read yet: call loadRunData on the spec first.');
    if (d.examples.length === 0) throw new RunDataError('The dataset has no examples: add some rows first.');
    const prepared = prepareTrainingData(asDataset(d.examples, d.textMode), tokenizer, {
      seqLen,
      ...(eosTokenId === undefined ? {} : { eosTokenId }),
      maskPrompt: d.maskPrompt ?? true,
      packing: d.packing ?? false,
      validationFraction: d.validationFraction ?? 0,
      seed: spec.train.seed,
      ...(d.validationExamples ? { validation: asDataset(d.validationExamples, d.textMode) } : {}),
    });
    return { train: prepared.train, validation: prepared.validation };
  }
  const texts = spec.trainTexts ?? [];
  if (texts.length === 0) throw new RunDataError('The run has no training examples: add a dataset first.');
  const tokens = (list: string[]) =>
    list.map((text) => ({ ids: tokenizeText((t) => tokenizer.encode(t), text, eosTokenId, seqLen).ids }));
  return { train: tokens(texts), validation: tokens(spec.validationTexts ?? []) };
}

const needsPairs =
  'DPO trains on preference pairs: a prompt with a chosen and a rejected response for each row';

/**
 * A DPO run's preference pairs, tokenized as TRL's DPOTrainer tokenizes them (each side cut to the
 * sequence length), split with the run's seed and validation fraction as SFT splits its examples.
 */
export function runPairs(spec: RunSpec, tokenizer: ModelTokenizer, eosTokenId?: number): RunPairs {
  const d = spec.data;
  if (!d)
    throw new PreferenceDataError(
      `${needsPairs}, and pasted lines are plain text. Drop a preference file (prompt, chosen, rejected columns), or train SFT.`,
    );
  if (!d.examples)
    throw new RunDataError('The dataset file has not been read yet: call loadRunData on the spec first.');
  const dataset = asDataset(d.examples, d.textMode);
  const validation = d.validationExamples && asDataset(d.validationExamples, d.textMode);
  for (const given of validation ? [dataset, validation] : [dataset]) {
    const other = given.examples.find((e) => e.kind !== 'preference');
    if (other || given.examples.length === 0)
      throw new PreferenceDataError(
        `${needsPairs}, and this dataset has ${other ? `"${other.kind}" rows (line ${other.line})` : 'no rows'}. Read it with the preference schema (prompt, chosen, rejected) and map its columns, or train SFT.`,
      );
  }
  const prepared = preparePreferenceData(dataset, tokenizer, {
    seqLen: spec.train.seqLen,
    ...(eosTokenId === undefined ? {} : { eosTokenId }),
    validationFraction: d.validationFraction ?? 0,
    seed: spec.train.seed,
    ...(validation ? { validation } : {}),
  });
  if (prepared.train.length === 0)
    throw new RunDataError(
      `Every training pair's prompt fills the ${spec.train.seqLen}-token sequence length, leaving no room for a response (${prepared.dropped} pairs dropped): raise the sequence length.`,
    );
  return { train: prepared.train, validation: prepared.validation };
}
