/**
 * Fixtures shared by the export-job tests: a tiny decoder per family, JSONL bytes, a chat dataset, and
 * a language-model run with distinct, non-default training values exported to a temporary folder. Tests
 * write their expected values out from `chatTraining` by hand, so nothing here is taken from the exporter.
 */
import { tinyEncoderConfigJson } from '../../fixtures/tiny-encoders';
import { type TinyFamily, tinyConfigJson } from '../../fixtures/tiny-models';
import { tinyWordPiece } from '../../fixtures/tiny-wordpiece';
import { type EncoderConfig, parseEncoderConfig } from '../../models/bert-config';
import { type DecoderConfig, parseModelConfig } from '../../models/config';
import { exportJob, type JobFiles, parseRunConfig, type RunConfig } from '../index';
import { writeTemp } from './python';

/** A 1-layer decoder config of the family (vocabulary 300, 2 heads): small enough to export instantly. */
export const tinyDecoder = (family: TinyFamily): DecoderConfig =>
  parseModelConfig(tinyConfigJson({ family }, 300, 1, 2));

/** Rows as a JSONL file's bytes, one JSON object a line, no trailing newline. */
export const jsonlBytes = (rows: unknown[]): Uint8Array<ArrayBuffer> =>
  new TextEncoder().encode(rows.map((row) => JSON.stringify(row)).join('\n'));

/** chat.jsonl: 12 one-turn conversations. */
export const chatBytes = jsonlBytes(
  Array.from({ length: 12 }, (_, i) => ({
    messages: [
      { role: 'user', content: `question ${i}` },
      { role: 'assistant', content: `answer ${i}` },
    ],
  })),
);

/** Distinct, non-default values everywhere, so a setting that is dropped or swapped shows. */
export const chatTraining = {
  optimizer: 'adamw',
  lr: 3.7e-4,
  betas: [0.85, 0.98],
  eps: 1e-7,
  weightDecay: 0.03,
  maxGradNorm: 0.7,
  schedule: 'cosine',
  warmupSteps: 7,
  steps: 123,
  batchSize: 3,
  gradAccum: 5,
  seqLen: 48,
  seed: 1234,
  shuffle: false,
  evalEvery: 11,
  gradientCheckpointing: true,
};

/** A run on chat.jsonl (a quarter held out, prompt masked, packed) with `chatTraining`, less any overrides. */
export function chatRun(method: Record<string, unknown>, overrides: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({
    model: { id: 'HuggingFaceTB/SmolLM2-135M-Instruct' },
    method,
    training: { ...chatTraining, ...overrides },
    data: { file: 'chat.jsonl', validationFraction: 0.25, maskPrompt: true, packing: true },
  });
}

/** The job for `run` on chat.jsonl, and the temporary folder it was written to. */
export async function exportedFolder(
  run: RunConfig,
  model: DecoderConfig,
): Promise<{ files: JobFiles; dir: string }> {
  const files = await exportJob({ run, model, dataset: { name: 'chat.jsonl', bytes: chatBytes } });
  return { files, dir: writeTemp(files) };
}

/** A tiny BERT classifier's config, on the tiny WordPiece vocabulary. */
export function tinyBertClassifier(): EncoderConfig {
  const wordPiece = tinyWordPiece();
  return parseEncoderConfig(tinyEncoderConfigJson({ family: 'bert' }, wordPiece.vocabSize, wordPiece.padId));
}

/** Eight labelled texts, two classes, as a classification job's dataset file. */
export const labelledTextRows = {
  name: 'texts.jsonl',
  bytes: jsonlBytes([0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ text: `the cat ${i}`, label: i % 2 }))),
};
