/**
 * One classification step of an encoder (bert.ts) as recorded dispatches:
 *   encoder forward (ids, token types, mask → logits [B, K]) → softmax cross-entropy over the K classes
 *   → encoder backward (→ the gradient of whatever the adaptation trains).
 * The loss is HF's for single-label classification: the mean over the batch of −log softmax(logits)[label]
 * (CrossEntropyLoss on logits.view(-1, K)). Logits are kept (the gradient goes to its own buffer), so one
 * run gives the loss and the predictions for accuracy and F1.
 *
 * Prompt tuning (an adaptation with virtualTokens P): callers still pass [B, T] batches; each row runs
 * with P placeholder tokens in front, as PeftModelForSequenceClassification does it: P ones before the
 * attention mask, P zeros before the token types, and positions over all P + T rows (inputs_embeds: 0..
 * for BERT, padding_idx + 1.. for RoBERTa, create_position_ids_from_inputs_embeds). The head then reads
 * the first virtual token, as HF's pooler does in PEFT. Prefix tuning (prefixTokens P): P ones before the
 * key mask, and positions start at P (past_key_values_length; RoBERTa's cumulative count offset by P).
 *
 * Dimension letters: B rows, T tokens per row, K classes.
 */
import type { Dispatch } from '../../gpu/dispatch';
import { crossEntropy, setCrossEntropyScale } from '../../gpu/kernels/cross-entropy/cross-entropy';
import { createRngState, type RngState } from '../../gpu/kernels/dropout/rng-state';
import { uploadEmbeddingIds, writeEmbeddingIds } from '../../gpu/kernels/embedding/embedding';
import { RecordedStep } from '../../gpu/recorded-step';
import type { Runtime } from '../../gpu/runtime';
import { createTensor, downloadTensor, type Tensor, uploadTensor, writeTensor } from '../../gpu/tensor';
import type { EncoderInputs, EncoderModel } from '../models/bert';
import type { EncoderConfig } from '../models/bert-config';
import { type Adaptation, frozen } from '../peft/adaptation';

/** A batch as HF's tokenizer gives it: [B, T] ids, token types and attention mask, and one label per row. */
export interface ClassificationBatch {
  ids: number[][];
  /** 0 for the first segment, 1 for the second; ignored by DistilBERT. */
  tokenTypes: number[][];
  attentionMask: number[][];
  /** [B] class ids in [0, K), or −100 for a filler row that is neither scored nor trained on. */
  labels: number[];
}

/** The label of a filler row (PyTorch's ignore_index): no loss, no gradient. */
export const ignoredRow = -100;

export class ClassificationBatchError extends Error {
  override readonly name = 'ClassificationBatchError';
}

/**
 * Position ids as HF builds them: 0..T−1 for BERT and DistilBERT; for RoBERTa
 * (create_position_ids_from_input_ids) padding_idx + the running count of non-pad tokens, and
 * padding_idx itself on pad tokens.
 */
export function encoderPositionIds(
  config: EncoderConfig,
  ids: number[][],
  /** Prompt tuning's virtual tokens at the front of each row: positions then run over every row. */
  virtualTokens = 0,
  /** Prefix tuning's past length: positions start there. */
  pastLength = 0,
): Uint32Array {
  const T = (ids[0]?.length ?? 0) + virtualTokens;
  const out = new Uint32Array(ids.length * T);
  ids.forEach((row, b) => {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const id = t < virtualTokens ? undefined : row[t - virtualTokens];
      if (config.family !== 'roberta') out[b * T + t] = pastLength + t;
      // inputs_embeds (prompt tuning): sequential from padding_idx + 1, pads included.
      else if (virtualTokens > 0) out[b * T + t] = config.padTokenId + 1 + t;
      else if (id === config.padTokenId) out[b * T + t] = config.padTokenId;
      else out[b * T + t] = config.padTokenId + pastLength + ++count;
    }
  });
  return out;
}

export interface ClassifierStepOptions {
  adaptation?: Adaptation;
  backward?: boolean;
  /** A training step with the model's dropout, its masks seeded by this (and drawn per setStep). */
  dropoutSeed?: number;
}

export class ClassifierStep {
  private constructor(
    private readonly runtime: Runtime,
    private readonly config: EncoderConfig,
    readonly inputs: EncoderInputs,
    private readonly labels: Tensor,
    private readonly lossRows: Tensor,
    private readonly logits: Tensor,
    private readonly crossEntropyDispatch: Dispatch,
    readonly recorded: RecordedStep,
    private readonly dropoutRng?: RngState,
  ) {}

  /** Draws fresh dropout masks for the next run (a no-op without dropout). */
  setStep(step: number): void {
    this.dropoutRng?.setStep(step);
  }

  static async plan(
    runtime: Runtime,
    model: EncoderModel,
    shape: { B: number; T: number },
    options: ClassifierStepOptions = {},
  ): Promise<ClassifierStep> {
    const c = model.config;
    const adaptation = options.adaptation ?? frozen;
    const P = adaptation.virtualTokens ?? 0;
    const KP = adaptation.prefixTokens ?? 0;
    if (KP > 0 && c.family === 'distilbert')
      throw new ClassificationBatchError(
        'DistilBERT takes no past key/values, so prefix tuning (as PEFT runs it) cannot apply; use prompt tuning or LoRA.',
      );
    const B = shape.B;
    // The model's rows: the batch's T tokens, after P virtual tokens.
    const T = shape.T + P;
    const N = B * T;
    const zeros = () => new Uint32Array(N);
    const inputs: EncoderInputs = {
      B,
      T,
      ids: uploadEmbeddingIds(runtime, 'input ids', [N], zeros(), c.V),
      positions: uploadEmbeddingIds(runtime, 'position ids', [N], zeros(), c.P),
      ...(c.TV > 0 ? { tokenTypes: uploadEmbeddingIds(runtime, 'token type ids', [N], zeros(), c.TV) } : {}),
      keyMask: uploadTensor(runtime.arena, 'attention mask', [B, T], new Uint32Array(N).fill(1)),
      firstTokens: uploadEmbeddingIds(
        runtime,
        'first tokens',
        [B],
        Uint32Array.from({ length: B }, (_, b) => b * T),
        N,
      ),
      ...(P > 0 ? { virtualTokens: P } : {}),
      ...(KP > 0
        ? {
            prefix: {
              tokens: KP,
              keyMask: uploadTensor(
                runtime.arena,
                'prefix key mask',
                [B, KP + T],
                new Uint32Array(B * (KP + T)),
              ),
            },
          }
        : {}),
    };
    const backward = Boolean(options.backward);
    const dropoutRng =
      backward && options.dropoutSeed !== undefined
        ? createRngState(runtime, options.dropoutSeed, 'encoder dropout rng')
        : undefined;
    const plan = await model.plan(
      runtime,
      inputs,
      adaptation,
      backward,
      dropoutRng ? { dropout: dropoutRng } : {},
    );
    const labels = uploadTensor(runtime.arena, 'class labels', [B], new Int32Array(B));
    const lossRows = createTensor(runtime.arena, 'loss per row', [B]);
    const ce = await crossEntropy(runtime, {
      logits: plan.logits,
      labels,
      loss: lossRows,
      dlogits: plan.dlogits,
      scale: 1 / B,
      label: 'classification cross-entropy',
    });
    const dispatches = [...plan.forward, ce, ...(backward ? plan.backward : [])];
    const recorded = new RecordedStep(
      runtime,
      `${c.architecture} classification step [${B}, ${T}]`,
      dispatches,
    );
    return new ClassifierStep(runtime, c, inputs, labels, lossRows, plan.logits, ce, recorded, dropoutRng);
  }

  get dispatchCount(): number {
    return this.recorded.dispatchCount;
  }

  /**
   * Uploads a batch and runs the step. `normalizeBy` divides the gradient (default: the scored rows, the batch mean);
   * gradient accumulation passes the rows of the whole optimizer step.
   */
  run(batch: ClassificationBatch, options: { normalizeBy?: number } = {}): void {
    const { B } = this.inputs;
    const P = this.inputs.virtualTokens ?? 0;
    const KP = this.inputs.prefix?.tokens ?? 0;
    const T = this.inputs.T - P;
    const c = this.config;
    const rows = [batch.ids, batch.tokenTypes, batch.attentionMask];
    if (batch.labels.length !== B || rows.some((r) => r.length !== B || r.some((row) => row.length !== T))) {
      throw new ClassificationBatchError(
        `This step was planned for batches of [${B}, ${T}] tokens and ${B} labels.`,
      );
    }
    batch.labels.forEach((label, b) => {
      if (label !== ignoredRow && !(Number.isInteger(label) && label >= 0 && label < c.K))
        throw new ClassificationBatchError(
          `Row ${b} has label ${label}; this classifier has ${c.K} classes (0..${c.K - 1}).`,
        );
    });
    // Virtual tokens: id 0 (its embedding is replaced by the prompt), token type 0, attended.
    const flat = (rowsOf: number[][], front: number, fill: number) =>
      Uint32Array.from(rowsOf.flatMap((row) => [...new Array<number>(front).fill(fill), ...row]));
    writeEmbeddingIds(this.runtime, this.inputs.ids, flat(batch.ids, P, 0));
    writeEmbeddingIds(this.runtime, this.inputs.positions, encoderPositionIds(c, batch.ids, P, KP));
    if (this.inputs.tokenTypes)
      writeEmbeddingIds(this.runtime, this.inputs.tokenTypes, flat(batch.tokenTypes, P, 0));
    writeTensor(this.runtime.device, this.inputs.keyMask, flat(batch.attentionMask, P, 1));
    if (this.inputs.prefix)
      writeTensor(this.runtime.device, this.inputs.prefix.keyMask, flat(batch.attentionMask, KP, 1));
    writeTensor(this.runtime.device, this.labels, Int32Array.from(batch.labels));
    this.scoredRows = batch.labels.filter((label) => label !== ignoredRow).length;
    const normalizeBy = options.normalizeBy ?? this.scoredRows;
    setCrossEntropyScale(this.runtime, this.crossEntropyDispatch, normalizeBy === 0 ? 0 : 1 / normalizeBy);
    this.recorded.replay();
  }

  private scoredRows = 0;

  /** Each row's cross-entropy in the last run (0 for filler rows). */
  rowLosses(): Promise<Float32Array> {
    return downloadTensor(this.runtime.arena, this.lossRows);
  }

  /** The mean cross-entropy of the last run's scored rows. */
  async loss(): Promise<number> {
    const rows = await this.rowLosses();
    return this.scoredRows === 0 ? 0 : rows.reduce((a, b) => a + b, 0) / this.scoredRows;
  }

  /** [B·K] logits of the last run. */
  readLogits(): Promise<Float32Array> {
    return downloadTensor(this.runtime.arena, this.logits);
  }
}
