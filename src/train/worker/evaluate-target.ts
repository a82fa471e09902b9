/**
 * Scores a model on a run's validation split, so an adapter trained elsewhere (a TRL + PEFT job, then
 * imported) or a base model can be set beside the run's own validation loss. The split is rebuilt from
 * the run's spec exactly as the run built it: the same file or examples read by `loadRunData`, tokenized
 * by the model's own tokenizer through `runExamples` (same seed, validation fraction, sequence length,
 * prompt masking and packing). The loss is the Trainer's evaluation (Trainer.evaluate, the same
 * computation as src/train/evaluate.ts `evaluateLoss`): one step planned at the run's [batchSize, T],
 * the same fixed batches, and the sum of every label token's cross-entropy over the number of label
 * tokens, so the number is directly comparable to the run's own eval loss (equal for the run's adapter).
 * Each batch takes one device turn, so training steps go on between them.
 * Decoder language models only; classification runs are scored by the classification engine, and DPO
 * runs on their preference pairs (evaluate-pairs-target.ts, whose `scoreRunSplit` picks between the two).
 */
import type { Runtime } from '../../gpu/runtime';
import { batchLength, fixedBatch } from '../batches';
import type { ModelBundle } from '../io/model-bundle';
import { type DecoderModel, DecoderStep } from '../models/decoder-step';
import type { Adaptation } from '../peft/adaptation';
import type { DeviceTurns } from './device-turns';
import type { EvaluationData } from './protocol';
import { loadRunData, runExamples } from './run-data';
import type { RunSpec } from './run-spec';

export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
}

/** A model ready to score: its weights, tokenizer, and the adaptation on it (none for a base model). */
export interface ScoringModel {
  /** The runtime the model was opened with (a run's tracked runtime, so its release frees the step too). */
  runtime: Runtime;
  model: DecoderModel;
  bundle: Pick<ModelBundle, 'tokenizer' | 'generation'>;
  adaptation?: Adaptation;
}

export interface SplitScore {
  /** Mean cross-entropy per label token over the whole validation split. */
  loss: number;
  /** Label tokens scored. */
  tokens: number;
  /** Validation examples scored. */
  examples: number;
}

const direct: DeviceTurns = (work) => work();

/**
 * The run's validation split as the Trainer batches it: rows of `batchSize`, padded to the run's T (the
 * longest example of train and validation, rounded up to 8, at most seqLen), as its constructor sets T.
 */
export async function validationBatches(data: EvaluationData, bundle: ScoringModel['bundle']) {
  if (data.spec.task === 'classification')
    throw new EvaluationError(
      `Run ${data.runId} is a classification run; its validation split is scored by the classification engine, not as a language model.`,
    );
  if (data.spec.train.preference)
    throw new EvaluationError(
      `Run ${data.runId} trained DPO on preference pairs: its split is scored as pairs, against the base model as the reference (scorePairsOnSplit), not as next-token batches.`,
    );
  // runExamples reads only the data, the training settings and the texts; the model files and the
  // method play no part in the split, so they are left empty here.
  const spec: RunSpec = { ...data.spec, modelFiles: {}, method: { method: 'full' } };
  const loaded = await loadRunData(spec);
  const examples = runExamples(loaded, bundle.tokenizer, bundle.generation.eosTokenIds[0]);
  if (examples.validation.length === 0)
    throw new EvaluationError(
      `Run ${data.runId} held no rows out for validation (its validation fraction is 0 and it has no validation set), so there is no split to score on; train a run with a validation split first.`,
    );
  const B = spec.train.batchSize;
  const T = batchLength([...examples.train, ...examples.validation], spec.train.seqLen);
  const batches = [];
  for (let i = 0; i < examples.validation.length; i += B)
    batches.push(fixedBatch(examples.validation.slice(i, i + B), B, T));
  return { B, T, batches, examples: examples.validation.length };
}

/** Mean validation loss of `scoring` on the run's split; every GPU step goes through `turns`. */
export async function scoreOnSplit(
  scoring: ScoringModel,
  data: EvaluationData,
  turns: DeviceTurns = direct,
): Promise<SplitScore> {
  const split = await validationBatches(data, scoring.bundle);
  const { runtime, model, adaptation } = scoring;
  const step = await turns(() =>
    DecoderStep.plan(runtime, model, { B: split.B, T: split.T }, adaptation ? { adaptation } : {}),
  );
  let sum = 0;
  let tokens = 0;
  for (const batch of split.batches) {
    const result = await turns(() => {
      step.run(batch);
      return step.loss();
    });
    sum += result.loss * result.tokens;
    tokens += result.tokens;
  }
  return { loss: tokens === 0 ? 0 : sum / tokens, tokens, examples: split.examples };
}
