/**
 * dataset/train.jsonl and dataset/validation.jsonl of an exported job: exactly the examples the browser
 * run trained and validated on, split by the same code (`splitTrainValidation`, seeded with the run's
 * seed, as `prepareTrainingData` splits) or taken from the validation file. Rows are in TRL's dataset
 * formats, in file order:
 *   text                      {"text": ...}
 *   prompt-completion         {"prompt": ..., "completion": ...}
 *   conversation              {"messages": [{"role", "content"}, ...]}, or, when some conversations train
 *                             only from a later message on (TRL's conversational prompt-completion),
 *                             {"prompt": [...], "completion": [...]} for every row (prompt may be empty)
 * One file holds one shape (a JSON Lines dataset has one set of columns). Refused, by ExportJobError:
 * classification rows (they train a head, not a language model), plain text read whole (it is cut into
 * token rows before the split, which needs the tokenizer), and a mix of shapes. In an SFT run preference
 * pairs export as their prompt and chosen response (prompt-completion), what SFT on them trains; a DPO
 * run's pairs export as pairs (preference-dataset.ts).
 */
import { chosenAsCompletion, type Example } from '../data/examples';
import type { LoadedDataset } from '../data/load-dataset';
import { splitTrainValidation } from '../data/split';
import { ExportJobError } from './errors';
import type { DataShape } from './sft-config';

export interface JobDataset {
  shape: DataShape;
  train: Example[];
  validation: Example[];
  /** JSON Lines text of each side, one row per example, with a final newline. */
  trainJsonl: string;
  validationJsonl: string;
}

export interface JobDatasetOptions {
  validationFraction: number;
  seed: number;
}

/** The train and validation examples, as the browser run's `prepareTrainingData` chose them. */
export function jobSplit(
  dataset: LoadedDataset,
  validation: LoadedDataset | undefined,
  options: JobDatasetOptions,
): { train: Example[]; validation: Example[] } {
  for (const loaded of [dataset, validation]) {
    if (loaded?.textMode === 'whole')
      throw new ExportJobError(
        `${loaded.file} is plain text read whole: Whetstone cuts it into rows of tokens before splitting, ` +
          'which needs the tokenizer, so the split cannot be written as examples. Read it by blocks or ' +
          'lines ("textMode": "blocks" or "lines") to export it.',
      );
  }
  if (validation) return { train: dataset.examples, validation: validation.examples };
  return splitTrainValidation(dataset.examples, {
    validationFraction: options.validationFraction,
    seed: options.seed,
  });
}

function shapeOf(example: Example): DataShape | 'classification' | 'preference' {
  return example.kind === 'chat' ? 'conversation' : example.kind;
}

export function jobDataset(
  dataset: LoadedDataset,
  validation: LoadedDataset | undefined,
  options: JobDatasetOptions,
): JobDataset {
  // SFT on preference pairs trains on each prompt and its chosen response, as the browser run does.
  const sft = (examples: Example[]) =>
    examples.map((e) => (e.kind === 'preference' ? chosenAsCompletion(e) : e));
  const pairs = jobSplit(dataset, validation, options);
  const split = { train: sft(pairs.train), validation: sft(pairs.validation) };
  const all = [...split.train, ...split.validation];
  const first = all[0];
  if (!first) throw new ExportJobError(`${dataset.file} has no examples to export.`);
  const shape = shapeOf(first);
  if (shape === 'preference') throw new Error('unreachable: preference pairs were made SFT examples above');
  if (shape === 'classification')
    throw new ExportJobError(
      `${dataset.file} holds classification examples (text and label, line ${first.line}): they train a ` +
        'classifier head, which a TRL SFT job does not. Choose the text, prompt/completion or chat schema, ' +
        'or export them for an encoder classifier (exportClassificationJob).',
    );
  const other = all.find((e) => shapeOf(e) !== shape);
  if (other)
    throw new ExportJobError(
      `${dataset.file} mixes ${shape} examples with ${shapeOf(other)} ones (line ${other.line}); a JSON Lines ` +
        'dataset for TRL has one set of columns. Make every row the same shape.',
    );
  const promptCompletion = all.some((e) => e.kind === 'chat' && e.trainFrom > 0);
  const row = (e: Example): Record<string, unknown> => {
    switch (e.kind) {
      case 'text':
        return { text: e.text };
      case 'prompt-completion':
        return { prompt: e.prompt, completion: e.completion };
      case 'chat':
        return promptCompletion
          ? { prompt: e.messages.slice(0, e.trainFrom), completion: e.messages.slice(e.trainFrom) }
          : { messages: e.messages };
      case 'classification':
      case 'preference':
        throw new Error('unreachable: refused above');
    }
  };
  const jsonl = (examples: Example[]) => examples.map((e) => `${JSON.stringify(row(e))}\n`).join('');
  return {
    shape,
    train: split.train,
    validation: split.validation,
    trainJsonl: jsonl(split.train),
    validationJsonl: jsonl(split.validation),
  };
}
