/**
 * DPO in the run setup. A dataset read with the preference schema (prompt, chosen, rejected) can train
 * two ways: DPO on its pairs (TRL's DPOTrainer, sigmoid loss; the default, since that is what such a
 * dataset is for), or SFT on the prompt and the chosen response. Any other dataset trains SFT whatever
 * the setup says. DPO's fields are its own: β (TRL's default 0.1) and its two learning rates
 * (learning-rates.ts), so switching between DPO and SFT keeps what was typed for each.
 * A DPO step holds a chosen and a rejected row per pair, so its memory is planned at twice the batch.
 */
import type { DpoLossType } from '../../train/train-config';
import type { RunTask } from '../../train/worker/run-spec';
import type { TrainingDataset } from './dataset-slice';

/** A DPO run's name for its loss: "DPO" for DPO's own sigmoid loss, else TRL's name of the other. */
export function dpoName(lossType: DpoLossType | undefined): string {
  return lossType === 'ipo' ? 'IPO' : lossType === 'hinge' ? 'DPO (hinge)' : 'DPO';
}

/** What a preference dataset trains: DPO on the pairs, or SFT on the chosen responses. */
export type RunObjective = 'dpo' | 'sft';

/** TRL's DPOConfig defaults: β = 0.1 (the sigmoid loss's temperature, the pull towards the reference). */
export const dpoDefaults = { beta: 0.1 };

/** The typed DPO fields (strings, as the rest of the form keeps them). */
export interface DpoFields {
  dpoBeta: string;
  /** The PEFT methods' rate under DPO. */
  dpoLr: string;
  /** Full fine-tuning's rate under DPO. */
  dpoFullLr: string;
}

/** Preference pairs in the studio's dataset: a library file read with the preference schema; else 0. */
export function preferencePairs(data: string[] | TrainingDataset): number {
  return !Array.isArray(data) && data.kind === 'file' ? (data.preferencePairs ?? 0) : 0;
}

/** DPO is chosen and the dataset has pairs (whether the model is a decoder is the caller's to add). */
export function dpoChosen(setup: { objective: RunObjective }, data: string[] | TrainingDataset): boolean {
  return setup.objective === 'dpo' && preferencePairs(data) > 0;
}

/** Whether runs started now train DPO: a language model, a preference dataset, and DPO chosen. */
export function trainsDpo(
  setup: { objective: RunObjective },
  data: string[] | TrainingDataset,
  task: RunTask,
): boolean {
  return task === 'causal-lm' && dpoChosen(setup, data);
}

/** Rows a step holds per example: a DPO pair is two (chosen, rejected). */
export const rowsPerExample = (dpo: boolean) => (dpo ? 2 : 1);

/** Reads one field as a number, recording a problem under its name (run-setup.ts's reader). */
type ReadNumber = (field: keyof DpoFields, check: (n: number) => string | null) => number;

/** DPO's β and rates, read from the form; problems are recorded by field. */
export function readDpo(number: ReadNumber): { beta: number; lr: number; fullLr: number } {
  const rate = (n: number) => (n > 0 ? null : 'The learning rate must be above 0.');
  return {
    beta: number('dpoBeta', (n) => (n > 0 ? null : 'β must be above 0 (TRL’s default is 0.1).')),
    lr: number('dpoLr', rate),
    fullLr: number('dpoFullLr', rate),
  };
}
