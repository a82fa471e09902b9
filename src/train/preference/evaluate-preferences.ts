/**
 * DPO's loss and rewards of a trained model over a set of preference pairs, against the base model as
 * the reference: an adapter's pairs scored with the adapter (the policy) and without it (the reference),
 * as TRL's DPOTrainer evaluates a PEFT model. What `whetstone eval --objective dpo --adapter` prints.
 */
import type { Runtime } from '../../gpu/runtime';
import { type DecoderModel, DecoderStep } from '../models/decoder-step';
import { type PreferenceMetrics, prepared, scoreSplit } from '../objective';
import type { Adaptation } from '../peft/adaptation';
import type { TrainConfig } from '../train-config';
import type { PreferencePair } from './pairs';
import { PreferenceObjective } from './preference-objective';

export interface PreferenceEvaluation {
  /** The mean DPO loss over the pairs. */
  loss: number;
  pairs: number;
  preference?: PreferenceMetrics;
}

export async function evaluatePreferences(
  runtime: Runtime,
  model: DecoderModel,
  adaptation: Adaptation,
  pairs: PreferencePair[],
  options: { batchSize: number; seqLen: number } & NonNullable<TrainConfig['preference']>,
): Promise<PreferenceEvaluation> {
  const objective = new PreferenceObjective(
    { train: [], validation: pairs },
    { beta: options.beta, ...(options.lossType ? { lossType: options.lossType } : {}) },
  );
  const shape = {
    batchSize: options.batchSize,
    T: objective.rowLength(options.seqLen),
    virtualTokens: adaptation.virtualTokens ?? 0,
  };
  await prepared(objective.prepare(runtime, model, shape));
  const step = await DecoderStep.plan(
    runtime,
    model,
    { B: 2 * shape.batchSize, T: shape.T },
    { adaptation, ...objective.stepOptions },
  );
  const { loss, tokens, preference } = await scoreSplit(step, objective, 'validation', shape);
  return { loss, pairs: tokens, ...(preference ? { preference } : {}) };
}
