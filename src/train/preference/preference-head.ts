/**
 * The GPU side of a DPO step (decoder-step.ts plans it when asked for a preference objective): the
 * buffers the preference-loss kernel reads and writes, and the dispatch that runs between the LM head's
 * loss pass and its gradient pass. Rows [0, B) of the step's batch are the chosen sequences and rows
 * [B, 2B) the rejected ones. Per batch the trainer writes each sequence's reference log-probability and
 * each pair's weight in the step's loss, and reads back the policy's log-probabilities and pair losses.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { type PreferenceLossType, preferenceLoss } from '../../gpu/kernels/preference-loss/preference-loss';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, downloadTensor, type Tensor, writeTensor } from '../../gpu/tensor';

export interface PreferenceHeadShape {
  /** [rows·T]: each token's cross-entropy, as the LM head's loss pass writes it. */
  lossRows: Tensor;
  /** [rows·T] i32: the step's labels, which IPO counts. */
  labels: Tensor;
  /** The step's rows, 2B. */
  rows: number;
  /** DPO's β. */
  beta: number;
  /** TRL's loss_type; absent: sigmoid. */
  lossType?: PreferenceLossType;
}

export class PreferenceHead {
  private constructor(
    private readonly runtime: Runtime,
    readonly dispatch: Dispatch,
    /** [2B]: each sequence's gradient weight, for the LM head's gradient pass. */
    readonly rowScales: Tensor,
    private readonly reference: Tensor,
    private readonly weight: Tensor,
    private readonly logp: Tensor,
    private readonly pairLoss: Tensor,
  ) {}

  static async plan(runtime: Runtime, shape: PreferenceHeadShape): Promise<PreferenceHead> {
    if (shape.rows % 2 !== 0)
      throw new Error(`A preference step pairs its rows; ${shape.rows} rows cannot be pairs.`);
    const B = shape.rows / 2;
    const a = runtime.arena;
    const tensors = {
      reference: createTensor(a, 'reference log-probabilities', [2 * B]),
      weight: createTensor(a, 'pair weights', [B]),
      logp: createTensor(a, 'log-probabilities', [2 * B]),
      pairLoss: createTensor(a, 'pair losses', [B]),
      rowScales: createTensor(a, 'sequence gradient weights', [2 * B]),
    };
    const dispatch = await preferenceLoss(runtime, {
      loss: shape.lossRows,
      labels: shape.labels,
      ...tensors,
      beta: shape.beta,
      ...(shape.lossType ? { lossType: shape.lossType } : {}),
    });
    return new PreferenceHead(
      runtime,
      dispatch,
      tensors.rowScales,
      tensors.reference,
      tensors.weight,
      tensors.logp,
      tensors.pairLoss,
    );
  }

  /** Before a run: [2B] reference log-probabilities, and [B] weights (0 for a padding pair). */
  write(reference: Float32Array, weight: Float32Array): void {
    writeTensor(this.runtime.device, this.reference, reference);
    writeTensor(this.runtime.device, this.weight, weight);
  }

  /** After a run: the policy's [2B] log-probabilities and the [B] pair losses. */
  async read(): Promise<{ logp: Float32Array; pairLoss: Float32Array }> {
    return {
      logp: await downloadTensor(this.runtime.arena, this.logp),
      pairLoss: await downloadTensor(this.runtime.arena, this.pairLoss),
    };
  }
}
