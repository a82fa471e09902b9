/**
 * What a decoder run minimises, as the trainer sees it: how examples become a step's batch, how the
 * step's loss is normalised and read back, and any work before the first step. Two objectives share
 * the one training loop (trainer.ts): next-token cross-entropy over token examples (SFT, here), and
 * DPO over preference pairs (preference/preference-objective.ts).
 */

import type { Runtime } from '../gpu/runtime';
import type { TokenExample } from './batches';
import { batchLength, fixedBatch } from './batches';
import type { CheckpointState } from './checkpoint-state';
import {
  type DecoderModel,
  type DecoderStep,
  labelTokenCount,
  type StepOptions,
  type TokenBatch,
} from './models/decoder-step';

export type Split = 'train' | 'validation';

export interface BatchShape {
  /** Examples per batch. */
  batchSize: number;
  /** Tokens per row. */
  T: number;
  virtualTokens: number;
}

/** How far the work before the first step has come: DPO's reference pass, in examples (pairs) scored. */
export interface PreparingEvent {
  kind: 'preparing';
  done: number;
  total: number;
}

/** Runs an objective's preparation to its end, for callers that do not show it. */
export async function prepared(preparation: AsyncGenerator<PreparingEvent>): Promise<void> {
  for await (const _ of preparation) {
    // only the end matters here
  }
}

/** A micro-batch ready to run: its rows, and what its loss is normalised by. */
export interface ObjectiveBatch {
  batch: TokenBatch;
  /** Label tokens (SFT) or pairs that count (DPO). */
  units: number;
  /** Real tokens in the batch, for throughput. */
  tokens: number;
}

/** A micro-batch's result: the loss summed over its units, and the objective's own sums. */
export interface ObjectiveResult {
  lossSum: number;
  units: number;
  sums?: Record<string, number>;
}

export interface TrainObjective {
  readonly kind: 'causal-lm' | 'dpo';
  size(split: Split): number;
  /** Rows of the step per example: 1, or 2 for a pair. */
  readonly rowsPerExample: number;
  /** The padded row length at this sequence length (every split's longest, rounded up). */
  rowLength(seqLen: number): number;
  /** What the step needs planned for this objective. */
  readonly stepOptions: Pick<StepOptions, 'preference'>;
  /**
   * Work before the first step, with the model as it is then (DPO's reference log-probabilities), told
   * as it goes; nothing when there is none, or it is done already.
   */
  prepare(
    runtime: Runtime,
    model: DecoderModel,
    shape: { batchSize: number; T: number },
  ): AsyncGenerator<PreparingEvent>;
  /** Examples `indices` of a split as a step's batch; `virtualTokens`: prompt tuning's, scored too. */
  batch(split: Split, indices: number[], shape: BatchShape): ObjectiveBatch;
  /** Uploads the batch and runs the step; `normalizeBy` is the units of the whole optimizer step. */
  run(step: DecoderStep, batch: ObjectiveBatch, normalizeBy: number): void;
  read(step: DecoderStep, batch: ObjectiveBatch): Promise<ObjectiveResult>;
  /** The objective's metrics from the sums of its results (DPO's rewards); none for SFT. */
  summarize(sums: Record<string, number>, units: number): { preference?: PreferenceMetrics };
  /** State a checkpoint must carry, and taking it back. */
  saveState(tensors: CheckpointState['tensors']): void;
  restoreState(checkpoint: CheckpointState): void;
}

/** DPO's metrics, as TRL logs them (rewards/*, logps/*), means over the pairs. */
export interface PreferenceMetrics {
  /** β·(logp − ref) of the chosen responses. */
  chosenReward: number;
  rejectedReward: number;
  /** The share of pairs whose chosen reward is above the rejected one. */
  rewardAccuracy: number;
  /** chosenReward − rejectedReward. */
  rewardMargin: number;
  chosenLogp: number;
  rejectedLogp: number;
}

/** Next-token cross-entropy, the mean over every label token (HF's causal-LM loss). */
export class CausalLmObjective implements TrainObjective {
  readonly kind = 'causal-lm';
  readonly rowsPerExample = 1;
  readonly stepOptions = {};

  constructor(
    private readonly train: TokenExample[],
    private readonly validation: TokenExample[],
  ) {}

  size(split: Split): number {
    return this[split].length;
  }

  rowLength(seqLen: number): number {
    return batchLength([...this.train, ...this.validation], seqLen);
  }

  // Nothing to do before next-token training.
  async *prepare(): AsyncGenerator<PreparingEvent> {
    yield* [];
  }

  batch(split: Split, indices: number[], shape: BatchShape): ObjectiveBatch {
    const examples = this[split];
    const batch = fixedBatch(
      indices.map((i) => examples[i] as TokenExample),
      shape.batchSize,
      shape.T,
    );
    return { batch, units: labelTokenCount(batch, shape.virtualTokens), tokens: realTokens(batch) };
  }

  run(step: DecoderStep, b: ObjectiveBatch, normalizeBy: number): void {
    step.run(b.batch, { normalizeBy });
  }

  async read(step: DecoderStep): Promise<ObjectiveResult> {
    const { loss, tokens } = await step.loss();
    return { lossSum: loss * tokens, units: tokens };
  }

  summarize(): { preference?: PreferenceMetrics } {
    return {};
  }

  saveState(): void {}
  restoreState(): void {}
}

export function realTokens(batch: TokenBatch): number {
  return batch.attentionMask.flat().reduce((a, v) => a + v, 0);
}

/** Micro-batch results summed into a step's (or an evaluation's) mean loss and metrics. */
export class Scores {
  private lossSum = 0;
  units = 0;
  private readonly sums: Record<string, number> = {};

  add(result: ObjectiveResult): void {
    this.lossSum += result.lossSum;
    this.units += result.units;
    for (const [key, value] of Object.entries(result.sums ?? {}))
      this.sums[key] = (this.sums[key] ?? 0) + value;
  }

  mean(): number {
    return this.units === 0 ? 0 : this.lossSum / this.units;
  }

  summary(objective: TrainObjective): { preference?: PreferenceMetrics } {
    return objective.summarize(this.sums, this.units);
  }
}

/**
 * Scores every example of a split through a planned (forward-only) step, in order: the mean loss over
 * the split's units, and the objective's metrics.
 */
export async function scoreSplit(
  step: DecoderStep,
  objective: TrainObjective,
  split: Split,
  shape: BatchShape,
): Promise<{ loss: number; tokens: number; preference?: PreferenceMetrics }> {
  const scored = new Scores();
  const count = objective.size(split);
  for (let i = 0; i < count; i += shape.batchSize) {
    const indices = Array.from({ length: Math.min(shape.batchSize, count - i) }, (_, k) => i + k);
    const batch = objective.batch(split, indices, shape);
    objective.run(step, batch, batch.units);
    scored.add(await objective.read(step, batch));
  }
  return { loss: scored.mean(), tokens: scored.units, ...scored.summary(objective) };
}
