/**
 * dataset/train.jsonl and dataset/validation.jsonl of an exported DPO job: the preference pairs the browser
 * run trains and validates on, split by the same code (jobSplit: splitTrainValidation with the run's seed,
 * as preparePreferenceData splits), or taken from the validation file, in TRL's preference formats:
 *   standard         {"prompt": "...", "chosen": "...", "rejected": "..."}
 *   conversational   {"prompt": [{"role", "content"}, ...], "chosen": [...], "rejected": [...]}
 * The prompt is always written: a pair loaded without one has had it extracted (TRL's extract_prompt, as
 * examples.ts does), so TRL reads the very prompt, chosen and rejected the browser tokenized. Every pair is
 * written, even one whose prompt fills the sequence length: TRL leaves those out as the browser does.
 * Refused by ExportJobError: rows of another kind (DPO needs a chosen and a rejected response) and files
 * mixing standard and conversational pairs (a JSON Lines dataset for TRL has one type per column).
 */
import { isConversationalPreference, type PreferenceExample } from '../data/examples';
import type { LoadedDataset } from '../data/load-dataset';
import { ExportJobError } from './errors';
import { type JobDatasetOptions, jobSplit } from './job-dataset';

export type PreferenceShape = 'preference' | 'conversational preference';

export interface PreferenceJobDataset {
  shape: PreferenceShape;
  /** True for message lists: train.py then makes sure the tokenizer has a chat template. */
  conversational: boolean;
  train: PreferenceExample[];
  validation: PreferenceExample[];
  trainJsonl: string;
  validationJsonl: string;
}

function pairsOf(file: string, examples: readonly { kind: string; line: number }[]): PreferenceExample[] {
  const other = examples.find((e) => e.kind !== 'preference');
  if (other)
    throw new ExportJobError(
      `${file} was read as "${other.kind}" rows (line ${other.line}); a DPO run trains on preference pairs, ` +
        'a prompt with a chosen and a rejected response. Choose the preference schema (prompt, chosen, ' +
        'rejected) and map its columns, or export the run as SFT (without training.preference).',
    );
  return examples as PreferenceExample[];
}

export function preferenceJobDataset(
  dataset: LoadedDataset,
  validation: LoadedDataset | undefined,
  options: JobDatasetOptions,
): PreferenceJobDataset {
  const split = jobSplit(dataset, validation, options);
  const train = pairsOf(dataset.file, split.train);
  const held = pairsOf(validation?.file ?? dataset.file, split.validation);
  const first = train[0];
  if (!first) throw new ExportJobError(`${dataset.file} has no preference pairs to train on.`);
  const conversational = isConversationalPreference(first);
  const other = [...train, ...held].find((e) => isConversationalPreference(e) !== conversational);
  if (other)
    throw new ExportJobError(
      `${validation && held.includes(other) ? validation.file : dataset.file} mixes conversational ` +
        `pairs (message lists) with standard ones (strings) (line ${other.line}); a JSON Lines dataset for ` +
        'TRL has one type per column. Make every pair the same kind.',
    );
  const row = (e: PreferenceExample) => ({ prompt: e.prompt, chosen: e.chosen, rejected: e.rejected });
  const jsonl = (pairs: PreferenceExample[]) => pairs.map((e) => `${JSON.stringify(row(e))}\n`).join('');
  return {
    shape: conversational ? 'conversational preference' : 'preference',
    conversational,
    train,
    validation: held,
    trainJsonl: jsonl(train),
    validationJsonl: jsonl(held),
  };
}
