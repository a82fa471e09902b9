/**
 * Scores a model on a DPO run's validation split, so an adapter trained elsewhere (a TRL DPO job, then
 * imported) can be set beside the run's own last evaluation. The pairs are rebuilt from the run's spec
 * exactly as the run built them: the same file read by `loadRunData`, then `runPairs` (TRL's tokenization,
 * the run's seed, validation fraction and sequence length). They are scored by `evaluatePreferences` at
 * the run's batch size and β: the adapter is the policy and the base model under it, adapter disabled,
 * the reference, as TRL's DPOTrainer evaluates a PEFT model. The reply is the mean DPO loss over the pairs
 * with TRL's rewards (rewards/chosen, rejected, accuracies, margins), the numbers the run's own
 * evaluations report, and equal to them for the run's own adapter.
 * A run that fully fine-tuned is still a split to score an adapter on: the worker opens the adapter on
 * the base model the run started from, which was that run's reference too.
 * The split is scored in one device turn (the reference pass, then the policy's), so training steps wait
 * for it. `scoreRunSplit` picks this or evaluate-target.ts's next-token scoring by what the run trained.
 */
import type { PreferenceMetrics } from '../objective';
import { evaluatePreferences } from '../preference/evaluate-preferences';
import type { DeviceTurns } from './device-turns';
import { EvaluationError, type ScoringModel, scoreOnSplit } from './evaluate-target';
import type { EvaluationData } from './protocol';
import { loadRunData, runPairs } from './run-data';
import type { RunSpec } from './run-spec';

/** A model's score on a run's split: a loss over its examples, and a DPO run's rewards. */
export interface RunSplitScore {
  /** Mean cross-entropy per label token (SFT), or mean DPO loss per pair (DPO). */
  loss: number;
  /** Validation examples (SFT) or pairs (DPO) scored. */
  examples: number;
  preference?: PreferenceMetrics;
}

const direct: DeviceTurns = (work) => work();

/** A DPO run's validation pairs, and the batch size, sequence length and β the run evaluated them at. */
export async function validationPairs(data: EvaluationData, bundle: ScoringModel['bundle']) {
  const preference = data.spec.train.preference;
  if (!preference)
    throw new EvaluationError(
      `Run ${data.runId} trained on next tokens, not preference pairs: its split is scored by its validation loss.`,
    );
  // runPairs reads only the data, the training settings and the texts; the model files and the method
  // play no part in the split, so they are left empty here.
  const spec: RunSpec = { ...data.spec, modelFiles: {}, method: { method: 'full' } };
  const loaded = await loadRunData(spec);
  const pairs = runPairs(loaded, bundle.tokenizer, bundle.generation.eosTokenIds[0]);
  if (pairs.validation.length === 0)
    throw new EvaluationError(
      `Run ${data.runId} held no pairs out for validation (its validation fraction is 0, or every held-out prompt fills the sequence length), so there is no split to score on; train a run with a validation split first.`,
    );
  return {
    pairs: pairs.validation,
    batchSize: spec.train.batchSize,
    seqLen: spec.train.seqLen,
    ...preference,
  };
}

/** DPO's loss and rewards of `scoring` (an adapter on its base model) on a DPO run's validation pairs. */
export async function scorePairsOnSplit(
  scoring: ScoringModel,
  data: EvaluationData,
  turns: DeviceTurns = direct,
): Promise<RunSplitScore> {
  const { runtime, model, adaptation } = scoring;
  if (!adaptation || adaptation.method === 'none')
    throw new EvaluationError(
      `The base model is DPO's reference on run ${data.runId}'s pairs: scored against itself every reward is 0 and the loss log 2, so there is nothing to measure. Score an adapter trained on it instead.`,
    );
  if (adaptation.method === 'full')
    throw new EvaluationError(
      `Run ${data.runId} fine-tuned every weight, so this worker no longer holds the base model its rewards are measured against; its own last evaluation is its DPO score. Score an adapter on its split instead.`,
    );
  const split = await validationPairs(data, scoring.bundle);
  const scored = await turns(() => evaluatePreferences(runtime, model, adaptation, split.pairs, split));
  return {
    loss: scored.loss,
    examples: scored.pairs,
    ...(scored.preference ? { preference: scored.preference } : {}),
  };
}

/** `scoring` on a run's validation split, as the run evaluated it: DPO pairs, or next-token examples. */
export async function scoreRunSplit(
  scoring: ScoringModel,
  data: EvaluationData,
  turns: DeviceTurns = direct,
): Promise<RunSplitScore> {
  if (data.spec.train.preference) return scorePairsOnSplit(scoring, data, turns);
  const { loss, examples } = await scoreOnSplit(scoring, data, turns);
  return { loss, examples };
}
