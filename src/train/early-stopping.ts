/**
 * Early stopping with the best weights kept, as HF's Trainer does with EarlyStoppingCallback and
 * load_best_model_at_end (metric eval_loss, lower is better, threshold 0): after each evaluation the
 * trainable tensors are copied aside on the GPU when the validation loss is the lowest yet; after
 * `patience` evaluations in a row without a lower one the run stops; either way the run ends holding
 * the best weights. Only the weights go back, not the optimizer's moments, as in HF.
 * The copies cost one trainable set of bytes (memory-plan.ts counts them); they go into checkpoints,
 * so a resumed run keeps the same best.
 */
import type { Runtime } from '../gpu/runtime';
import { createTensor, downloadTensor, releaseTensor, type Tensor, writeTensor } from '../gpu/tensor';
import { CheckpointError, type CheckpointState, type EarlyStoppingPosition } from './checkpoint-state';
import type { TrainableEntry } from './peft/adaptation';

/** What one evaluation decided. */
export interface EarlyStoppingVerdict {
  /** The lowest validation loss so far, and the step it was measured after. */
  bestLoss: number;
  bestStep: number;
  /** This evaluation set a new best. */
  improved: boolean;
  /** `patience` evaluations in a row have not improved on the best: the run stops here. */
  stop: boolean;
}

export const freshEarlyStopping = (): EarlyStoppingPosition => ({
  bestLoss: null,
  bestStep: 0,
  evaluationsWithoutImprovement: 0,
});

/** The bookkeeping of one evaluation (no GPU work): the new position and the verdict. */
export function judgeEvaluation(
  at: EarlyStoppingPosition,
  loss: number,
  step: number,
  patience: number,
): { position: EarlyStoppingPosition; verdict: EarlyStoppingVerdict } {
  const improved = at.bestLoss === null || loss < at.bestLoss;
  const position = improved
    ? { bestLoss: loss, bestStep: step, evaluationsWithoutImprovement: 0 }
    : { ...at, evaluationsWithoutImprovement: at.evaluationsWithoutImprovement + 1 };
  const stop = position.evaluationsWithoutImprovement >= patience;
  return {
    position,
    verdict: { bestLoss: position.bestLoss ?? loss, bestStep: position.bestStep, improved, stop },
  };
}

/** A GPU copy of every trainable tensor, taken at the best evaluation. */
export class BestWeights {
  private readonly copies: Tensor[];

  constructor(
    private readonly runtime: Runtime,
    private readonly entries: readonly TrainableEntry[],
  ) {
    this.copies = entries.map((e) => createTensor(runtime.arena, `best ${e.name}`, e.param.shape));
  }

  /** Copies the weights as they are now aside. */
  keep(): void {
    this.copy('keep best weights', (i) => [this.entries[i]?.param, this.copies[i]]);
  }

  /** Puts the kept weights back. */
  restore(): void {
    this.copy('restore best weights', (i) => [this.copies[i], this.entries[i]?.param]);
  }

  /** The kept weights, for a checkpoint: `best:<name>`. */
  async checkpointTensors(into: CheckpointState['tensors']): Promise<void> {
    for (const [i, entry] of this.entries.entries()) {
      const copy = this.copies[i] as Tensor;
      into.set(`best:${entry.name}`, {
        shape: [...copy.shape],
        data: await downloadTensor(this.runtime.arena, copy),
      });
    }
  }

  /** The kept weights from a checkpoint; one written before any evaluation has none. */
  resume(saved: CheckpointState): void {
    for (const [i, entry] of this.entries.entries()) {
      const data = saved.tensors.get(`best:${entry.name}`)?.data;
      if (!data) throw new CheckpointError(`The checkpoint has no best:${entry.name} for early stopping.`);
      writeTensor(this.runtime.device, this.copies[i] as Tensor, data);
    }
  }

  release(): void {
    for (const copy of this.copies) releaseTensor(this.runtime.arena, copy);
  }

  private copy(label: string, pair: (i: number) => [Tensor | undefined, Tensor | undefined]): void {
    const encoder = this.runtime.device.createCommandEncoder({ label });
    for (let i = 0; i < this.entries.length; i++) {
      const [from, to] = pair(i);
      if (from && to) encoder.copyBufferToBuffer(from.buffer, 0, to.buffer, 0, from.size * 4);
    }
    this.runtime.device.queue.submit([encoder.finish()]);
  }
}
