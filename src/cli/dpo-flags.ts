/**
 * `train --objective dpo [--dpo-beta B] [--dpo-loss sigmoid|hinge|ipo]`: DPO on a preference dataset
 * (prompt, chosen, rejected) instead of next-token training, as TRL's DPOTrainer with that loss_type
 * (sigmoid, DPO's own, by default; src/train/preference). The pairs
 * are read and tokenized as TRL does (preference-data.ts); what they count, and each step's rewards,
 * go to the output under TRL's metric names (rewards/accuracies → rewards_accuracy, ...).
 */
import type { TokenExample } from '../train/batches';
import { type PreferenceData, preparePreferenceData } from '../train/data/preference-data';
import type { DatasetTokenizer } from '../train/data/tokenize-examples';
import type { PreferenceMetrics, PreparingEvent } from '../train/objective';
import { pairSides as sidesOf } from '../train/preference/pairs';
import { type DpoLossType, dpoLossTypes, type TrainConfig } from '../train/train-config';
import type { CliDatasets, DatasetFlags } from './dataset-flags';
import { numberFlag } from './load-model';
import { CliUsageError } from './usage-error';

/** TRL's DPOConfig default β. */
export const defaultDpoBeta = 0.1;

/**
 * DPO learns at far lower rates than SFT: TRL's DPOConfig defaults to 1e-6, and recipes run DPO about 40
 * times below their SFT rate (Zephyr: SFT 2e-5, DPO 5e-7), so each method's SFT default is divided by 40.
 */
export const dpoRateDivisor = 40;

export function preferenceFromFlags(flags: DatasetFlags): Pick<TrainConfig, 'preference'> {
  const objective = flags.objective ?? 'sft';
  if (objective !== 'sft' && objective !== 'dpo')
    throw new CliUsageError('--objective must be sft (next-token training) or dpo (preference pairs).');
  if (objective === 'sft') {
    for (const flag of ['dpo-beta', 'dpo-loss'])
      if (flags[flag] !== undefined) throw new CliUsageError(`--${flag} needs --objective dpo.`);
    return {};
  }
  const lossType = flags['dpo-loss'] ?? 'sigmoid';
  if (!dpoLossTypes.includes(lossType as DpoLossType))
    throw new CliUsageError(`--dpo-loss must be one of ${dpoLossTypes.join(', ')} (TRL's loss_type).`);
  if (flags.packing === true)
    throw new CliUsageError(
      'DPO scores each response whole against its prompt; --packing would join pairs into shared rows. Leave it out.',
    );
  if (flags['no-mask-prompt'] === true)
    throw new CliUsageError(
      "DPO compares the responses' log-probabilities, never the prompt's; --no-mask-prompt does not apply.",
    );
  const beta = numberFlag(flags['dpo-beta'], 'dpo-beta', defaultDpoBeta, (n) => n > 0);
  return {
    preference: { beta, ...(lossType === 'sigmoid' ? {} : { lossType: lossType as DpoLossType }) },
  };
}

export interface CliPreferenceData extends PreferenceData, CliDatasets {}

/** The training and validation pairs (the seeded split or the validation file); cut and dropped pairs said on stderr. */
export function prepareCliPreferenceData(
  read: CliDatasets,
  tokenizer: DatasetTokenizer,
  options: { seqLen: number; eosTokenId?: number; seed: number },
): CliPreferenceData {
  const data = preparePreferenceData(read.dataset, tokenizer, {
    ...options,
    validationFraction: read.validationFraction,
    validation: read.validationDataset,
  });
  if (data.truncated > 0)
    process.stderr.write(
      `whetstone: ${data.truncated} pairs had a response cut to ${options.seqLen} tokens.\n`,
    );
  if (data.dropped > 0)
    process.stderr.write(
      `whetstone: ${data.dropped} pairs were left out: their prompt alone fills --seq-len ${options.seqLen}.\n`,
    );
  if (data.train.length === 0)
    throw new CliUsageError(`No preference pair of ${read.dataset.file} fits --seq-len ${options.seqLen}.`);
  return { ...data, ...read };
}

/** Both sides of every pair as token examples: what row lengths, memory plans and fingerprints read. */
export function pairSides(data: PreferenceData): { train: TokenExample[]; validation: TokenExample[] } {
  return { train: sidesOf(data.train), validation: sidesOf(data.validation) };
}

/** What train adds to its --json summary about the pairs. */
export function preferenceDataReport(data: CliPreferenceData): Record<string, unknown> {
  return {
    data_format: data.dataset.format,
    schema: data.dataset.schema.kind,
    template: data.template,
    train_pairs: data.train.length,
    validation_pairs: data.validation.length,
    bad_rows: data.dataset.badRows.length + (data.validationDataset?.badRows.length ?? 0),
    truncated: data.truncated,
    dropped: data.dropped,
  };
}

/** A step's or an evaluation's rewards under TRL's names, with `prefix` ('eval_') for evaluations. */
export function preferenceReport(
  metrics: PreferenceMetrics | undefined,
  prefix = '',
): Record<string, number> {
  if (!metrics) return {};
  return {
    [`${prefix}rewards_chosen`]: metrics.chosenReward,
    [`${prefix}rewards_rejected`]: metrics.rejectedReward,
    [`${prefix}rewards_accuracy`]: metrics.rewardAccuracy,
    [`${prefix}rewards_margin`]: metrics.rewardMargin,
    [`${prefix}logps_chosen`]: metrics.chosenLogp,
    [`${prefix}logps_rejected`]: metrics.rejectedLogp,
  };
}

/** The readable line's tail: "  reward acc 0.750  margin 0.123". */
export function preferenceText(metrics: PreferenceMetrics | undefined): string {
  if (!metrics) return '';
  return `  reward acc ${metrics.rewardAccuracy.toFixed(3)}  margin ${metrics.rewardMargin.toFixed(3)}`;
}

/**
 * DPO's reference pass, on stderr (stdout stays the --json lines): a line at each tenth of the pairs
 * scored and at the end, so a long pass shows it is moving.
 */
export function referenceProgressReporter(): (event: PreparingEvent) => void {
  let shownTenth = -1;
  return ({ done, total }) => {
    const tenth = Math.floor((10 * done) / total);
    if (tenth === shownTenth) return;
    shownTenth = tenth;
    process.stderr.write(
      `whetstone: reference log-probabilities of the base model: ${done} of ${total} pairs\n`,
    );
  };
}
