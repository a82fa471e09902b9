/**
 * What a run's task asks of the studio's dataset. An encoder (the built-in tiny BERT, BERT, DistilBERT,
 * RoBERTa) trains a sequence classifier, so its runs need a library file read as classification
 * (text, label) or sentence-pair (sentence1, sentence2, label) rows; a decoder trains a language model
 * on text and cannot use labelled rows. `classificationData` turns such a file into the RunSpec's data
 * (split in the worker with the run's seed, as the CLI's --task classification splits it) and its counts;
 * `taskDataProblem` says, in words, why the dataset does not suit the chosen model.
 */
import type { RunSpec, RunTask } from '../../train/worker/run-spec';
import type { TrainingDataset } from './dataset-slice';
import type { RunSettings } from './run-record';

export class TaskDataError extends Error {
  override readonly name = 'TaskDataError';
}

/** Labelled rows in the dataset (0 for pasted text and for files read as text, chat or prompt rows). */
export function labelledRows(data: string[] | TrainingDataset): number {
  return !Array.isArray(data) && data.kind === 'file' ? (data.labeledExamples ?? 0) : 0;
}

/** Why the dataset cannot train a run of this task, or null when it can. */
export function taskDataProblem(task: RunTask, data: string[] | TrainingDataset): string | null {
  const labelled = labelledRows(data);
  if (task === 'classification') {
    if (labelled > 0) return null;
    return "A classifier trains on labelled rows: drop a classification file (text and label columns) or a sentence-pair file (two sentences and a label, as GLUE's TSVs) in the dataset panel, or choose a language model to train on plain text.";
  }
  const given = Array.isArray(data) ? { kind: 'texts' as const, texts: data } : data;
  const trainable = given.kind === 'texts' ? given.texts.length : given.examples;
  if (trainable === 0 && labelled > 0)
    return 'This dataset holds labelled rows for a classifier; a language model trains on text. Choose an encoder classifier (the built-in tiny BERT, or BERT, DistilBERT, RoBERTa from the catalogue), or a text, chat or prompt/completion dataset.';
  return null;
}

export interface PlannedClassificationData {
  spec: Pick<RunSpec, 'data' | 'task'>;
  counts: Pick<RunSettings, 'trainExamples' | 'validationExamples' | 'validationHeldOut'>;
}

/** The spec's data for a classification run on a library file, and the seeded split's sizes. */
export function classificationData(
  data: TrainingDataset & { kind: 'file' },
  /** The share held out, seeded (run-setup's studioValidationFraction, as for language-model runs). */
  validationFraction: number,
): PlannedClassificationData {
  const n = data.labeledExamples ?? 0;
  // splitTrainValidation's sizes: ceil(fraction × n), and at least one row left to train on.
  const held = Math.min(Math.ceil(validationFraction * n), n - 1);
  const { schema, skipBadRows } = data.settings;
  return {
    spec: {
      task: 'classification',
      data: {
        file: { blob: data.file, fileName: data.fileName, ...(schema ? { schema } : {}), skipBadRows },
        validationFraction,
      },
    },
    counts: { trainExamples: n - held, validationExamples: held, validationHeldOut: held > 0 },
  };
}
