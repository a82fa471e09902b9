/**
 * DPO as a training objective (objective.ts): B preference pairs run as one step of 2B rows, the chosen
 * sequences first, and the loss is the mean over the pairs of −log σ(β·δ) (preference-loss.wgsl). The
 * reference log-probabilities come from the base model before the first step (`prepare`), as TRL's
 * precompute_ref_log_probs computes them: through a step with no adaptation, which for PEFT is TRL's
 * reference (the adapter disabled) and for full fine-tuning the model as loaded. A checkpoint carries
 * them, since a fully fine-tuned model can no longer give them.
 */
import type { Runtime } from '../../gpu/runtime';
import { batchLength, fixedBatch } from '../batches';
import type { CheckpointState } from '../checkpoint-state';
import { CheckpointError } from '../checkpoint-state';
import { type DecoderModel, DecoderStep } from '../models/decoder-step';
import type {
  BatchShape,
  ObjectiveBatch,
  ObjectiveResult,
  PreferenceMetrics,
  PreparingEvent,
  Split,
  TrainObjective,
} from '../objective';
import { realTokens } from '../objective';
import type { TrainConfig } from '../train-config';
import { runMemory } from '../worker/run-memory';
import { type PreferencePair, pairSides } from './pairs';

interface PairBatch extends ObjectiveBatch {
  /** Pairs in the batch that are real (the rest pad a short last batch). */
  live: number;
  /** [2B] reference log-probabilities of the chosen, then the rejected rows. */
  reference: Float32Array;
}

const referenceTensor = (split: Split) => `reference_logps:${split}`;

export class PreferenceObjective implements TrainObjective {
  readonly kind = 'dpo';
  readonly rowsPerExample = 2;
  readonly stepOptions: { preference: NonNullable<TrainConfig['preference']> };
  /** Per split, [2·pairs]: each pair's chosen then rejected reference log-probability. */
  private reference?: Record<Split, Float32Array>;

  private readonly beta: number;

  /** `settings`: TrainConfig.preference, or β alone for DPO's sigmoid loss. */
  constructor(
    private readonly pairs: Record<Split, PreferencePair[]>,
    settings: number | NonNullable<TrainConfig['preference']>,
  ) {
    const preference = typeof settings === 'number' ? { beta: settings } : settings;
    this.beta = preference.beta;
    this.stepOptions = { preference };
  }

  size(split: Split): number {
    return this.pairs[split].length;
  }

  rowLength(seqLen: number): number {
    const sides = pairSides([...this.pairs.train, ...this.pairs.validation]);
    return batchLength(sides, seqLen);
  }

  /**
   * Every pair's sequences scored once by the model without adaptation, in a step freed afterwards; told
   * batch by batch, so a long pass shows its progress and gives the device back between batches.
   */
  async *prepare(
    runtime: Runtime,
    model: DecoderModel,
    shape: { batchSize: number; T: number },
  ): AsyncGenerator<PreparingEvent> {
    if (this.reference) return;
    const memory = runMemory(runtime);
    try {
      const step = await DecoderStep.plan(
        memory.runtime,
        model,
        { B: 2 * shape.batchSize, T: shape.T },
        this.stepOptions,
      );
      const total = this.size('train') + this.size('validation');
      let done = 0;
      const reference = { train: new Float32Array(0), validation: new Float32Array(0) };
      for (const split of ['train', 'validation'] as const) {
        const count = this.size(split);
        const logps = new Float32Array(2 * count);
        for (let start = 0; start < count; start += shape.batchSize) {
          const indices = Array.from(
            { length: Math.min(shape.batchSize, count - start) },
            (_, i) => start + i,
          );
          const b = this.pairBatch(
            split,
            indices,
            shape.batchSize,
            shape.T,
            new Float32Array(2 * shape.batchSize),
          );
          step.preference?.write(b.reference, pairWeights(shape.batchSize, b.live, 1));
          step.run(b.batch);
          const { logp } = (await step.preference?.read()) ?? { logp: new Float32Array(0) };
          indices.forEach((pair, i) => {
            logps[pair] = logp[i] as number;
            logps[count + pair] = logp[shape.batchSize + i] as number;
          });
          done += indices.length;
          yield { kind: 'preparing', done, total };
        }
        reference[split] = logps;
      }
      this.reference = reference;
    } finally {
      memory.release();
    }
  }

  batch(split: Split, indices: number[], shape: BatchShape): PairBatch {
    const reference = this.reference?.[split];
    if (!reference) throw new Error('The reference log-probabilities are computed in prepare() first.');
    const count = this.size(split);
    const refs = new Float32Array(2 * shape.batchSize);
    indices.forEach((pair, i) => {
      refs[i] = reference[pair] as number;
      refs[shape.batchSize + i] = reference[count + pair] as number;
    });
    return this.pairBatch(split, indices, shape.batchSize, shape.T, refs);
  }

  private pairBatch(
    split: Split,
    indices: number[],
    B: number,
    T: number,
    reference: Float32Array,
  ): PairBatch {
    const pairs = indices.map((i) => this.pairs[split][i] as PreferencePair);
    const chosen = fixedBatch(
      pairs.map((p) => p.chosen),
      B,
      T,
    );
    const rejected = fixedBatch(
      pairs.map((p) => p.rejected),
      B,
      T,
    );
    const batch = {
      ids: [...chosen.ids, ...rejected.ids],
      attentionMask: [...chosen.attentionMask, ...rejected.attentionMask],
      labels: [...chosen.labels, ...rejected.labels],
    };
    return { batch, units: pairs.length, tokens: realTokens(batch), live: pairs.length, reference };
  }

  run(step: DecoderStep, b: ObjectiveBatch, normalizeBy: number): void {
    const pairs = b as PairBatch;
    const B = pairs.reference.length / 2;
    step.preference?.write(pairs.reference, pairWeights(B, pairs.live, normalizeBy));
    step.run(b.batch);
  }

  async read(step: DecoderStep, b: ObjectiveBatch): Promise<ObjectiveResult> {
    const { reference, live } = b as PairBatch;
    const head = step.preference;
    if (!head) throw new Error('This step was not planned for preference pairs.');
    const { logp, pairLoss } = await head.read();
    const B = reference.length / 2;
    const sums = { chosenReward: 0, rejectedReward: 0, rewardAccuracy: 0, chosenLogp: 0, rejectedLogp: 0 };
    let lossSum = 0;
    for (let p = 0; p < live; p++) {
      const [chosen, rejected] = [logp[p] as number, logp[B + p] as number];
      const chosenReward = this.beta * (chosen - (reference[p] as number));
      const rejectedReward = this.beta * (rejected - (reference[B + p] as number));
      lossSum += pairLoss[p] as number;
      sums.chosenReward += chosenReward;
      sums.rejectedReward += rejectedReward;
      sums.rewardAccuracy += chosenReward > rejectedReward ? 1 : 0;
      sums.chosenLogp += chosen;
      sums.rejectedLogp += rejected;
    }
    return { lossSum, units: live, sums };
  }

  summarize(sums: Record<string, number>, units: number): { preference: PreferenceMetrics } {
    const mean = (key: string) => (units === 0 ? 0 : (sums[key] ?? 0) / units);
    return {
      preference: {
        chosenReward: mean('chosenReward'),
        rejectedReward: mean('rejectedReward'),
        rewardAccuracy: mean('rewardAccuracy'),
        rewardMargin: mean('chosenReward') - mean('rejectedReward'),
        chosenLogp: mean('chosenLogp'),
        rejectedLogp: mean('rejectedLogp'),
      },
    };
  }

  saveState(tensors: CheckpointState['tensors']): void {
    if (!this.reference) return;
    for (const split of ['train', 'validation'] as const) {
      const data = this.reference[split];
      if (data.length > 0) tensors.set(referenceTensor(split), { shape: [data.length], data });
    }
  }

  restoreState(checkpoint: CheckpointState): void {
    const saved = (split: Split) => {
      if (this.size(split) === 0) return new Float32Array(0);
      const data = checkpoint.tensors.get(referenceTensor(split))?.data;
      if (!data || data.length !== 2 * this.size(split))
        throw new CheckpointError(
          `The checkpoint has no reference log-probabilities for these ${this.size(split)} ${split} pairs.`,
        );
      return data;
    };
    this.reference = { train: saved('train'), validation: saved('validation') };
  }
}

/** Each live pair's share of the step's mean loss; 0 for the pairs that pad a short batch. */
function pairWeights(B: number, live: number, normalizeBy: number): Float32Array {
  return Float32Array.from({ length: B }, (_, p) => (p < live && normalizeBy > 0 ? 1 / normalizeBy : 0));
}
